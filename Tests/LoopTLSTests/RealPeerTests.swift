@_spi(Backend) import LoopCore
import Foundation
import Glibc
import Loops
import XCTest

/// TLS against peers this library did not write: CPython's `ssl` module and the
/// `openssl` command (s_client, s_server), as client and as server, over TLS 1.2
/// and 1.3, on every built-in backend. Loopback only; every peer process has a
/// deadline and is killed if it outlives it.
final class RealPeerTests: XCTestCase {
    static let fixtures = Result { try PeerFixtures() }

    /// The certificate files the peers read.
    struct PeerFixtures: Sendable {
        let directory: String
        let caFile: String
        let certFile: String
        let keyFile: String
        let ca: TLSIdentity
        let server: TLSIdentity

        init() throws {
            ca = try TLSIdentity.generate(commonName: "Real Peer Test CA", isCA: true)
            server = try TLSIdentity.generate(commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], issuer: ca)
            directory = NSTemporaryDirectory() + "loop-tls-peers-\(getpid())"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            caFile = directory + "/ca.pem"
            certFile = directory + "/server.pem"
            keyFile = directory + "/server.key"
            try Data(ca.certificatePEM).write(to: URL(fileURLWithPath: caFile))
            try Data(server.certificatePEM).write(to: URL(fileURLWithPath: certFile))
            try Data(server.privateKeyPEM).write(to: URL(fileURLWithPath: keyFile))
        }
    }

    override class func tearDown() {
        if case .success(let fixtures) = fixtures { try? FileManager.default.removeItem(atPath: fixtures.directory) }
    }

    // MARK: The peers

    static let pythonClient = """
        import socket, ssl, sys
        port, cafile, version = int(sys.argv[1]), sys.argv[2], sys.argv[3]
        ctx = ssl.create_default_context(cafile=cafile)
        v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
        ctx.minimum_version = v
        ctx.maximum_version = v
        data = bytes(range(256)) * 4096
        with socket.create_connection(("127.0.0.1", port), timeout=20) as raw:
            with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
                tls.sendall(data)
                got = bytearray()
                while len(got) < len(data):
                    chunk = tls.recv(65536)
                    if not chunk:
                        break
                    got += chunk
                assert bytes(got) == data, f"echo differs: {len(got)} bytes"
                print(tls.version(), tls.cipher()[0], flush=True)
        """

    static let pythonServer = """
        import socket, ssl, sys
        cert, key, version = sys.argv[1], sys.argv[2], sys.argv[3]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        v = ssl.TLSVersion.TLSv1_2 if version == "1.2" else ssl.TLSVersion.TLSv1_3
        ctx.minimum_version = v
        ctx.maximum_version = v
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        srv.listen(1)
        srv.settimeout(20)
        print(srv.getsockname()[1], flush=True)
        conn, _ = srv.accept()
        conn.settimeout(20)
        tls = ctx.wrap_socket(conn, server_side=True)
        while True:
            chunk = tls.recv(65536)
            if not chunk:
                break
            tls.sendall(chunk)
        print(tls.version(), flush=True)
        tls.unwrap().close()
        """

    // MARK: Tests

    /// TLS-X56: CPython's ssl module as the client of our TLS echo server, TLS 1.2 and 1.3.
    func testPythonClientAgainstOurServer() throws {
        for backend in BuiltinBackends.descriptors {
            for version in ["1.2", "1.3"] {
                let output = try serveOnce(backend) { port, fixtures in
                    try PeerProcess(["/usr/bin/env", "python3", "-c", Self.pythonClient, "\(port)", fixtures.caFile, version])
                }
                XCTAssertTrue(output.hasPrefix("TLSv\(version) "), "\(backend.name): python printed '\(output)'")
            }
        }
    }

    /// TLS-X57: `openssl s_client` as the client of our TLS echo server, TLS 1.2 and 1.3.
    func testOpenSSLClientAgainstOurServer() throws {
        for backend in BuiltinBackends.descriptors {
            for version in ["1_2", "1_3"] {
                let output = try serveOnce(backend, closeAfterEcho: true) { port, fixtures in
                    try PeerProcess(
                        ["/usr/bin/env", "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", fixtures.caFile,
                         "-servername", "localhost", "-verify_return_error", "-verify_hostname", "localhost",
                         "-tls\(version)", "-brief", "-ign_eof"],
                        input: "ping from s_client\n", mergeStandardError: true)
                }
                XCTAssertTrue(output.contains("ping from s_client"), "\(backend.name): s_client printed '\(output)'")
                XCTAssertTrue(output.contains("TLSv\(version.replacingOccurrences(of: "_", with: "."))"), "\(backend.name): s_client printed '\(output)'")
            }
        }
    }

    /// TLS-X58: our client against CPython's ssl server, TLS 1.2 and 1.3: 1 MiB echoed,
    /// then a clean close_notify exchange (python unwraps).
    func testOurClientAgainstPythonServer() throws {
        let fixtures = try Self.fixtures.get()
        for backend in BuiltinBackends.descriptors {
            for version in ["1.2", "1.3"] {
                let peer = try PeerProcess(["/usr/bin/env", "python3", "-c", Self.pythonServer, fixtures.certFile, fixtures.keyFile, version])
                let port = try XCTUnwrap(Int(peer.readLine() ?? ""), "python printed no port")
                let negotiated = try echo(backend, port: port, count: 1 << 20)
                let output = try peer.finish()
                XCTAssertEqual(negotiated, version == "1.2" ? .tls1_2 : .tls1_3, backend.name)
                XCTAssertEqual(output.trimmingCharacters(in: .whitespacesAndNewlines), "TLSv\(version)", backend.name)
            }
        }
    }

    /// TLS-X59: our client against `openssl s_server -rev` (it answers each line reversed),
    /// TLS 1.2 and 1.3.
    func testOurClientAgainstOpenSSLServer() throws {
        let fixtures = try Self.fixtures.get()
        for backend in BuiltinBackends.descriptors {
            for version in ["1_2", "1_3"] {
                let port = try Self.freePort()
                let peer = try PeerProcess(
                    ["/usr/bin/env", "openssl", "s_server", "-accept", "127.0.0.1:\(port)", "-cert", fixtures.certFile,
                     "-key", fixtures.keyFile, "-tls\(version)", "-naccept", "1", "-rev"])
                while let line = peer.readLine(), !line.hasPrefix("ACCEPT") {}
                let (reply, negotiated) = try reversedLine(backend, port: port, line: "hello openssl")
                XCTAssertEqual(reply, String("hello openssl".reversed()), backend.name)
                XCTAssertEqual(negotiated, version == "1_2" ? .tls1_2 : .tls1_3, backend.name)
                _ = try peer.finish()
            }
        }
    }

    /// TLS-X62: renegotiation is refused: `openssl s_client -tls1_2` asks for it ("R")
    /// after a first echo and fails with "no renegotiation"; our server never renegotiates.
    func testRenegotiationRefused() throws {
        for backend in BuiltinBackends.descriptors {
            let output = try serveOnce(backend) { port, fixtures in
                let peer = try PeerProcess(
                    ["/usr/bin/env", "openssl", "s_client", "-connect", "127.0.0.1:\(port)", "-CAfile", fixtures.caFile,
                     "-servername", "localhost", "-tls1_2", "-no_ign_eof"],
                    input: "hello\n", mergeStandardError: true, keepInputOpen: true)
                // s_client reads a command only when it is alone in a read of its input.
                DispatchQueue.global().asyncAfter(deadline: .now() + 0.5) { peer.send("R\n") }
                return peer
            } finish: { try $0.finish(allowFailure: true) }
            XCTAssertTrue(output.contains("RENEGOTIATING"), "\(backend.name): \(output)")
            XCTAssertTrue(output.contains("no renegotiation"), "\(backend.name): \(output)")
        }
    }

    // MARK: Our side

    /// Runs a TLS echo server on `backend` until the peer `start` launches exits; returns
    /// its output. With `closeAfterEcho` each connection closes after its first echo.
    private func serveOnce(
        _ backend: BackendDescriptor, closeAfterEcho: Bool = false, _ start: @escaping @Sendable (Int, PeerFixtures) throws -> PeerProcess,
        finish: (PeerProcess) throws -> String = { try $0.finish() }
    ) throws -> String {
        let fixtures = try Self.fixtures.get()
        let loop = BaseEventLoop(backend: try backend.make())
        defer { try? loop.close() }
        let box = PeerBox()
        box.start = start
        box.fixtures = fixtures
        box.closeAfterEcho = closeAfterEcho
        try loop.runUntilComplete { () async throws -> Void in
            try await box.serve(on: loop)
        }
        return try finish(try XCTUnwrap(box.peer))
    }

    /// Sends `count` bytes over TLS to `port` on `backend`, reads the echo, closes cleanly;
    /// returns the negotiated version.
    private func echo(_ backend: BackendDescriptor, port: Int, count: Int) throws -> TLSVersion? {
        let fixtures = try Self.fixtures.get()
        let loop = BaseEventLoop(backend: try backend.make())
        defer { try? loop.close() }
        return try loop.runUntilComplete { () async throws -> TLSVersion? in
            let context = try TLSContext(side: .client)
            try context.loadVerifyLocations(caFile: fixtures.caFile)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port, ssl: context, serverHostname: "localhost")
            let data = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            try writer.write(data)
            let echoed = try await reader.readexactly(count)
            XCTAssertTrue(echoed == data, "the echo differs")
            let version = writer.extraInfo("tls_version") as? TLSVersion
            writer.close()
            try await writer.waitClosed()
            return version
        }
    }

    /// Sends one line over TLS and reads one line back.
    private func reversedLine(_ backend: BackendDescriptor, port: Int, line: String) throws -> (String, TLSVersion?) {
        let fixtures = try Self.fixtures.get()
        let loop = BaseEventLoop(backend: try backend.make())
        defer { try? loop.close() }
        return try loop.runUntilComplete { () async throws -> (String, TLSVersion?) in
            let context = try TLSContext(side: .client)
            try context.loadVerifyLocations(caFile: fixtures.caFile)
            let (reader, writer) = try await loop.openConnection(host: "127.0.0.1", port: port, ssl: context, serverHostname: "localhost")
            try writer.write(Array((line + "\n").utf8))
            let reply = try await reader.readline()
            let version = writer.extraInfo("tls_version") as? TLSVersion
            writer.close()
            try? await writer.waitClosed()
            return (String(decoding: reply, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines), version)
        }
    }

    static func port(of server: Server) throws -> Int {
        guard let fd = server.sockets.first, case .ipv4(_, let port) = try Socket.localAddress(fd) else {
            throw TLSError(.invalidConfiguration, "the server has no IPv4 socket")
        }
        return Int(port)
    }

    static func freePort() throws -> Int {
        let fd = try Socket.make(.inet, .stream)
        defer { close(fd) }
        try Socket.bind(fd, to: SocketAddress(host: "127.0.0.1", port: 0))
        guard case .ipv4(_, let port) = try Socket.localAddress(fd) else { return 0 }
        return Int(port)
    }
}

/// Echoes what it receives; with `closeAfterEcho`, closes after the first echo.
private final class EchoOnce: StreamProtocol, @unchecked Sendable {
    let closeAfterEcho: Bool
    var transport: (any WriteTransport)?
    init(closeAfterEcho: Bool) { self.closeAfterEcho = closeAfterEcho }
    func connectionMade(_ transport: any BaseTransport) throws { self.transport = transport as? any WriteTransport }
    func dataReceived(_ bytes: [UInt8]) throws {
        try transport?.write(bytes)
        if closeAfterEcho { transport?.close() }
    }
    func connectionLost(_ error: (any Error)?) throws { transport = nil }
}

/// What a serving run needs, carried into its loop task; used on that loop's thread.
private final class PeerBox: @unchecked Sendable {
    var peer: PeerProcess?
    var start: (@Sendable (Int, RealPeerTests.PeerFixtures) throws -> PeerProcess)?
    var fixtures: RealPeerTests.PeerFixtures?
    var closeAfterEcho = false

    func serve(on loop: BaseEventLoop) async throws {
        guard let fixtures, let start else { return }
        let context = try TLSContext.server(certificateChainFile: fixtures.certFile, privateKeyFile: fixtures.keyFile)
        let closeAfterEcho = closeAfterEcho
        let server = try await loop.createServer({ EchoOnce(closeAfterEcho: closeAfterEcho) }, host: "127.0.0.1", port: 0, ssl: context)
        let port = try RealPeerTests.port(of: server)
        peer = try start(port, fixtures)
        while peer?.isRunning == true { try await sleep(.milliseconds(10)) }
        server.close()
        try await server.waitClosed()
    }
}

/// A peer process with piped stdin/stdout and a 30 s deadline.
final class PeerProcess: @unchecked Sendable {
    private let process = Process()
    private let output = Pipe()
    private var buffered = Data()
    private var input: Pipe?
    private let deadline = ContinuousClock.now + .seconds(30)

    /// Starts `arguments` (the executable first), writing `input` to its stdin and
    /// closing it; with `mergeStandardError` stderr goes to the output too (s_client's
    /// -brief report).
    /// With `keepInputOpen` stdin stays open until the process ends (s_client quits at
    /// the end of its input).
    init(_ arguments: [String], input: String? = nil, mergeStandardError: Bool = false, keepInputOpen: Bool = false) throws {
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardOutput = output
        process.standardError = mergeStandardError ? output : FileHandle.nullDevice
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        if keepInputOpen { self.input = stdin } else { try? stdin.fileHandleForWriting.close() }
    }

    /// Writes `text` to the process's stdin (kept open with `keepInputOpen`).
    func send(_ text: String) {
        input?.fileHandleForWriting.write(Data(text.utf8))
    }

    var isRunning: Bool {
        if process.isRunning && ContinuousClock.now > deadline { process.terminate() }
        return process.isRunning
    }

    /// The next line of output (blocking), or `nil` at its end.
    func readLine() -> String? {
        while true {
            if let newline = buffered.firstIndex(of: 0x0A) {
                let line = buffered[buffered.startIndex..<newline]
                buffered = Data(buffered[(newline + 1)...])
                return String(decoding: line, as: UTF8.self)
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return buffered.isEmpty ? nil : String(decoding: buffered, as: UTF8.self) }
            buffered += chunk
        }
    }

    /// Waits for the exit (killing the process after its deadline); returns the rest
    /// of the output. Throws when the process failed.
    func finish(allowFailure: Bool = false) throws -> String {
        while isRunning { usleep(10_000) }
        try? input?.fileHandleForWriting.close()
        let rest = output.fileHandleForReading.readDataToEndOfFile()
        let text = String(decoding: buffered + rest, as: UTF8.self)
        guard process.terminationStatus == 0 || allowFailure else {
            throw TLSError(.protocolError, "\(process.arguments?.prefix(2) ?? []) exited with \(process.terminationStatus): \(text)")
        }
        return text
    }
}
