import COpenSSL

/// A certificate and its private key in PEM form, made on the spot with OpenSSL (a
/// throwaway self-signed certificate, a test CA and the certificates it signs).
/// Keys are ECDSA P-256, signatures SHA-256. Never use these for anything but tests
/// and trying things out.
///
/// ```swift
/// let ca = try TLSIdentity.generate(commonName: "Test CA", isCA: true)
/// let server = try TLSIdentity.generate(commonName: "localhost", dnsNames: ["localhost"], ipAddresses: ["127.0.0.1"], issuer: ca)
/// let context = try TLSContext(side: .server)
/// try context.loadCertificateChain(pem: server.certificatePEM, keyPEM: server.privateKeyPEM)
/// ```
public struct TLSIdentity: Sendable, Equatable {
    /// The certificate, PEM.
    public let certificatePEM: [UInt8]
    /// The private key, PEM (PKCS#8; encrypted with AES-256-CBC when made with a password).
    public let privateKeyPEM: [UInt8]

    public init(certificatePEM: [UInt8], privateKeyPEM: [UInt8]) {
        self.certificatePEM = certificatePEM
        self.privateKeyPEM = privateKeyPEM
    }

    /// A new key and a certificate for it: subject CN `commonName`, the given DNS names
    /// and IP addresses as subject alternative names, valid from `validFrom` to `validUntil`
    /// seconds relative to now (negative values lie in the past), signed by `issuer`
    /// (self-signed when `nil`). `isCA` makes a CA certificate; `keyPassword` encrypts the key.
    public static func generate(
        commonName: String, dnsNames: [String] = [], ipAddresses: [String] = [],
        validFrom: Int = -3600, validUntil: Int = 10 * 365 * 86400,
        issuer: TLSIdentity? = nil, isCA: Bool = false, keyPassword: String? = nil
    ) throws -> TLSIdentity {
        guard let key = cloop_EVP_EC_gen_P256() else {
            throw TLSError(.invalidConfiguration, "generating a P-256 key failed: \(OpenSSLErrors.reason() ?? "unknown error")")
        }
        defer { EVP_PKEY_free(key) }
        guard let x509 = X509_new() else { throw TLSError(.invalidConfiguration, "X509_new failed") }
        defer { X509_free(x509) }
        var issuerCertificate: OpaquePointer?
        var issuerKey: OpaquePointer?
        defer {
            if let issuerCertificate { X509_free(issuerCertificate) }
            if let issuerKey { EVP_PKEY_free(issuerKey) }
        }
        if let issuer {
            issuerCertificate = try PEMFile.certificates(issuer.certificatePEM, source: "issuer certificate").first
            issuerKey = try PEMFile.privateKey(issuer.privateKeyPEM, password: nil, source: "issuer key")
        }
        _ = X509_set_version(x509, 2)
        var serial = UInt64(0)
        _ = withUnsafeMutableBytes(of: &serial) { RAND_bytes($0.baseAddress?.assumingMemoryBound(to: UInt8.self), 8) }
        _ = ASN1_INTEGER_set_uint64(X509_get_serialNumber(x509), serial >> 1)
        _ = X509_gmtime_adj(X509_getm_notBefore(x509), validFrom)
        _ = X509_gmtime_adj(X509_getm_notAfter(x509), validUntil)
        _ = X509_set_pubkey(x509, key)
        let name = X509_get_subject_name(x509)
        _ = X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, commonName, -1, -1, 0)
        _ = X509_set_issuer_name(x509, issuerCertificate.map { X509_get_subject_name($0) } ?? name)
        var extensionContext = X509V3_CTX()
        cloop_X509V3_set_ctx_nodb(&extensionContext)
        X509V3_set_ctx(&extensionContext, issuerCertificate ?? x509, x509, nil, nil, 0)
        var extensions: [(Int32, String)] = [
            (NID_basic_constraints, isCA ? "critical,CA:TRUE" : "CA:FALSE"),
            (NID_key_usage, isCA ? "critical,keyCertSign,cRLSign,digitalSignature" : "critical,digitalSignature,keyEncipherment"),
            (NID_subject_key_identifier, "hash"),
        ]
        if issuerCertificate != nil { extensions.append((NID_authority_key_identifier, "keyid:always")) }
        if !isCA { extensions.append((NID_ext_key_usage, "serverAuth,clientAuth")) }
        let altNames = dnsNames.map { "DNS:\($0)" } + ipAddresses.map { "IP:\($0)" }
        if !altNames.isEmpty { extensions.append((NID_subject_alt_name, altNames.joined(separator: ","))) }
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &extensionContext, nid, value) else {
                throw TLSError(.invalidConfiguration, "certificate extension '\(value)': \(OpenSSLErrors.reason() ?? "refused")")
            }
            _ = X509_add_ext(x509, ext, -1)
            X509_EXTENSION_free(ext)
        }
        guard X509_sign(x509, issuerKey ?? key, EVP_sha256()) > 0 else {
            throw TLSError(.invalidConfiguration, "signing the certificate failed: \(OpenSSLErrors.reason() ?? "unknown error")")
        }
        let certificatePEM = TLSCertificateInfo.text { PEM_write_bio_X509($0, x509) }
        let keyPEM: String
        if let keyPassword {
            keyPEM = keyPassword.withCString { password in
                TLSCertificateInfo.text {
                    PEM_write_bio_PKCS8PrivateKey($0, key, EVP_aes_256_cbc(), nil, 0, cloop_pem_password_callback(), UnsafeMutableRawPointer(mutating: password))
                }
            }
        } else {
            keyPEM = TLSCertificateInfo.text { PEM_write_bio_PKCS8PrivateKey($0, key, nil, nil, 0, nil, nil) }
        }
        return TLSIdentity(certificatePEM: Array(certificatePEM.utf8), privateKeyPEM: Array(keyPEM.utf8))
    }
}
