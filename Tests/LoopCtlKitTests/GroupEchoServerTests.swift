import Glibc
import LoopCtlKit
import Loops
import XCTest

/// `loopctl echo-server --loops N`: the group echo server on both distributions and
/// both modes; the shutdown closes the open connections (the client reads end of file).
final class GroupEchoServerTests: XCTestCase {
    override class func setUp() {
        super.setUp()
        BuiltinBackends.register()
    }

    func testGroupEchoServerEchoesAndShutsDown() throws {
        for distribution in GroupServer.Distribution.allCases {
            for mode in EchoMode.allCases {
                let group = try LoopGroup(loops: 2)
                defer { try? group.shutdown() }
                let echo = try GroupEchoServer.start(on: group, distribution: distribution, host: "127.0.0.1", port: 0, mode: mode)
                let port = try XCTUnwrap(echo.addresses.first?.port)
                var clients: [Int32] = []
                for index in 0..<8 {
                    let fd = try blockingClient(port: port)
                    clients.append(fd)
                    let text = Array("ping \(index)".utf8)
                    XCTAssertEqual(text.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }, text.count)
                    var buffer = [UInt8](repeating: 0, count: 64)
                    var got: [UInt8] = []
                    while got.count < text.count {
                        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                        guard count > 0 else { break }
                        got += buffer[..<count]
                    }
                    XCTAssertEqual(got, text, "\(distribution) \(mode)")
                }
                try echo.shutdown(timeout: .seconds(10))
                XCTAssertEqual(echo.connections.map(\.count).reduce(0, +), 0)
                for fd in clients {
                    var byte: UInt8 = 0
                    XCTAssertEqual(recv(fd, &byte, 1, 0), 0, "end of file after the shutdown (\(distribution) \(mode))")
                    close(fd)
                }
            }
        }
    }

    private func blockingClient(port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw SystemError(errno: errno, call: "connect") }
        return fd
    }
}
