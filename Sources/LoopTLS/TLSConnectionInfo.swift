import COpenSSL

/// A certificate's fields as this library reports them (asyncio's `getpeercert()`
/// dictionary, with the DER bytes of `getpeercert(binary_form=True)`).
public struct TLSCertificateInfo: Sendable, Equatable, CustomStringConvertible {
    /// The certificate in DER form.
    public let der: [UInt8]
    /// The subject in RFC 2253 form, e.g. "CN=localhost,O=Example".
    public let subject: String
    /// The issuer in RFC 2253 form.
    public let issuer: String
    /// The subject's common name, if it has one.
    public let commonName: String?
    /// The subject alternative names as OpenSSL prints them, e.g. "DNS:localhost",
    /// "IP Address:127.0.0.1".
    public let subjectAltNames: [String]
    /// The start of validity, e.g. "Jan  1 00:00:00 2030 GMT" (asyncio's "notBefore").
    public let notBefore: String
    /// The end of validity (asyncio's "notAfter").
    public let notAfter: String
    /// The serial number in upper-case hexadecimal.
    public let serialNumber: String

    public var description: String { "<TLSCertificateInfo subject=\(subject) issuer=\(issuer) notAfter=\(notAfter)>" }

    /// The fields of the OpenSSL certificate `x509`.
    init(_ x509: OpaquePointer) {
        var derPointer: UnsafeMutablePointer<UInt8>?
        let length = i2d_X509(x509, &derPointer)
        if length > 0, let derPointer {
            der = Array(UnsafeBufferPointer(start: derPointer, count: Int(length)))
            CRYPTO_free(derPointer, #fileID, #line)
        } else {
            der = []
        }
        subject = Self.name(X509_get_subject_name(x509))
        issuer = Self.name(X509_get_issuer_name(x509))
        commonName = Self.commonName(X509_get_subject_name(x509))
        notBefore = Self.text { ASN1_TIME_print($0, X509_get0_notBefore(x509)) }
        notAfter = Self.text { ASN1_TIME_print($0, X509_get0_notAfter(x509)) }
        serialNumber = Self.text { i2a_ASN1_INTEGER($0, X509_get_serialNumber(x509)) }
        let index = X509_get_ext_by_NID(x509, NID_subject_alt_name, -1)
        if index >= 0, let ext = X509_get_ext(x509, index) {
            let printed = Self.text { X509V3_EXT_print($0, ext, 0, 0) }
            subjectAltNames = printed.split(separator: ",").map { $0.trimmingSpaces() }
        } else {
            subjectAltNames = []
        }
    }

    /// What `print` writes into a memory BIO.
    static func text(_ print: (OpaquePointer) -> Int32) -> String {
        guard let bio = BIO_new(BIO_s_mem()) else { return "" }
        defer { BIO_free(bio) }
        _ = print(bio)
        let count = cloop_BIO_pending(bio)
        guard count > 0 else { return "" }
        var bytes = [UInt8](repeating: 0, count: count)
        let read = bytes.withUnsafeMutableBytes { BIO_read(bio, $0.baseAddress, Int32(count)) }
        return String(decoding: bytes.prefix(max(Int(read), 0)), as: UTF8.self)
    }

    private static func name(_ name: OpaquePointer?) -> String {
        guard let name else { return "" }
        return text { X509_NAME_print_ex($0, name, 0, cloop_XN_FLAG_RFC2253()) }
    }

    private static func commonName(_ name: OpaquePointer?) -> String? {
        guard let name else { return nil }
        let index = X509_NAME_get_index_by_NID(name, NID_commonName, -1)
        guard index >= 0, let entry = X509_NAME_get_entry(name, index), let data = X509_NAME_ENTRY_get_data(entry),
              let bytes = ASN1_STRING_get0_data(data) else { return nil }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(ASN1_STRING_length(data))), as: UTF8.self)
    }
}

/// The negotiated cipher (asyncio's `cipher()` tuple).
public struct TLSCipher: Sendable, Equatable, CustomStringConvertible {
    /// OpenSSL's name, e.g. "TLS_AES_256_GCM_SHA384".
    public let name: String
    /// The protocol version that defined it, e.g. "TLSv1.3".
    public let protocolVersion: String
    /// The secret bits.
    public let bits: Int

    public var description: String { "(\(name), \(protocolVersion), \(bits))" }
}

/// What a TLS connection negotiated, read after its handshake (the typed form of
/// asyncio's "ssl_object" extra info).
public struct TLSConnectionInfo: Sendable, Equatable, CustomStringConvertible {
    /// The negotiated version.
    public let version: TLSVersion?
    /// OpenSSL's name of the negotiated version ("TLSv1.3").
    public let versionName: String
    /// The negotiated cipher.
    public let cipher: TLSCipher?
    /// The ALPN protocol both sides agreed on, if any.
    public let alpnProtocol: String?
    /// The peer's certificate, if it sent one.
    public let peerCertificate: TLSCertificateInfo?
    /// Whether the session was resumed from an earlier connection.
    public let sessionReused: Bool
    /// The server name: the one the client sent (SNI) on either side.
    public let serverName: String?
    /// Whether this side is the server.
    public let serverSide: Bool

    public var description: String {
        "<TLSConnectionInfo \(versionName) \(cipher?.name ?? "-")\(alpnProtocol.map { " alpn=\($0)" } ?? "")\(sessionReused ? " reused" : "")>"
    }

    init(_ engine: TLSEngine) {
        let ssl = engine.ssl
        versionName = String(cString: SSL_get_version(ssl))
        version = TLSVersion(openSSLName: versionName)
        if let current = SSL_get_current_cipher(ssl) {
            cipher = TLSCipher(
                name: String(cString: SSL_CIPHER_get_name(current)),
                protocolVersion: String(cString: SSL_CIPHER_get_version(current)),
                bits: Int(SSL_CIPHER_get_bits(current, nil)))
        } else {
            cipher = nil
        }
        var alpn: UnsafePointer<UInt8>?
        var alpnLength: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &alpn, &alpnLength)
        alpnProtocol = alpn.flatMap { alpnLength > 0 ? String(decoding: UnsafeBufferPointer(start: $0, count: Int(alpnLength)), as: UTF8.self) : nil }
        if let certificate = SSL_get1_peer_certificate(ssl) {
            peerCertificate = TLSCertificateInfo(certificate)
            X509_free(certificate)
        } else {
            peerCertificate = nil
        }
        sessionReused = cloop_SSL_session_reused(ssl) == 1
        serverName = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name).map { String(cString: $0) }
        serverSide = engine.serverSide
    }
}

extension Substring {
    func trimmingSpaces() -> String {
        String(drop(while: { $0 == " " || $0 == "\n" }).reversed().drop(while: { $0 == " " || $0 == "\n" }).reversed())
    }
}
