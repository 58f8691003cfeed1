import Glibc
import Loops

/// How `loopctl echo-server` gets its TLS certificate: `--tls-cert FILE --tls-key FILE`
/// (PEM), or `--tls-self-signed` (a throwaway certificate for localhost and 127.0.0.1
/// made at start, for trying TLS out).
public enum EchoTLS: Sendable, Equatable {
    /// Plain TCP.
    case off
    /// The PEM certificate chain and key in these files.
    case files(certificate: String, key: String)
    /// A throwaway self-signed certificate.
    case selfSigned

    /// The setting the three options ask for. Throws ``LoopError/Kind-swift.enum/invalidArgument``
    /// for a certificate without a key (or the reverse), or files together with `--tls-self-signed`.
    public static func from(certificate: String?, key: String?, selfSigned: Bool) throws -> EchoTLS {
        switch (certificate, key, selfSigned) {
        case (nil, nil, false): return .off
        case (nil, nil, true): return .selfSigned
        case (.some(let certificate), .some(let key), false): return .files(certificate: certificate, key: key)
        case (_, _, true):
            throw LoopError(.invalidArgument, "--tls-self-signed cannot be combined with --tls-cert/--tls-key")
        case (.some, nil, false):
            throw LoopError(.invalidArgument, "--tls-cert needs --tls-key (the PEM private key)")
        case (nil, .some, false):
            throw LoopError(.invalidArgument, "--tls-key needs --tls-cert (the PEM certificate chain)")
        }
    }

    /// The server context, and a line describing it for the output. A self-signed
    /// certificate is written to a file in `directory` so that clients can trust it.
    public func makeContext(directory: String = "/tmp") throws -> (context: TLSContext, summary: String)? {
        switch self {
        case .off:
            return nil
        case .files(let certificate, let key):
            let context = try TLSContext.server(certificateChainFile: certificate, privateKeyFile: key)
            return (context, "certificate \(certificate), key \(key)")
        case .selfSigned:
            let identity = try TLSIdentity.generate(commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1", "::1"])
            let context = try TLSContext(side: .server)
            try context.loadCertificateChain(pem: identity.certificatePEM, keyPEM: identity.privateKeyPEM)
            let path = "\(directory)/loopctl-self-signed-\(getpid()).pem"
            try Self.write(identity.certificatePEM, to: path)
            return (context, "self-signed certificate for localhost/127.0.0.1 (trust it with the CA file \(path))")
        }
    }

    private static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemError(errno: errno, call: "open(\(path))") }
        defer { close(fd) }
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SystemError(errno: errno, call: "write(\(path))") }
    }
}
