import COpenSSL
import Glibc

/// Reading PEM files and parsing PEM certificates and keys, with typed errors.
enum PEMFile {
    /// The bytes of `path`; throws ``TLSError/Kind-swift.enum/fileNotFound`` naming `what`.
    static func read(_ path: String, what: String) throws -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw TLSError(.fileNotFound, "\(what) '\(path)': \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw TLSError(.fileNotFound, "\(what) '\(path)': \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes += chunk[0..<count]
        }
        return bytes
    }

    /// A read-only memory BIO over `bytes` (valid while `body` runs).
    static func withBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) throws -> T) throws -> T {
        try bytes.withUnsafeBytes { raw in
            guard let bio = BIO_new_mem_buf(raw.baseAddress, Int32(clamping: raw.count)) else {
                throw TLSError(.invalidConfiguration, "BIO_new_mem_buf failed")
            }
            defer { BIO_free(bio) }
            return try body(bio)
        }
    }

    /// Every certificate in `pem`, in order (the caller frees them); throws
    /// ``TLSError/Kind-swift.enum/invalidPEM`` when there is none.
    static func certificates(_ pem: [UInt8], source: String) throws -> [OpaquePointer] {
        OpenSSLErrors.clear()
        let found: [OpaquePointer] = try withBIO(pem) { bio in
            var found: [OpaquePointer] = []
            while let certificate = PEM_read_bio_X509(bio, nil, nil, nil) { found.append(certificate) }
            return found
        }
        // Reading stops with a "no start line" error at the end of the data.
        OpenSSLErrors.clear()
        guard !found.isEmpty else {
            throw TLSError(.invalidPEM, "\(source): no PEM certificate found (PEM lib: no start line)", reason: "no start line")
        }
        return found
    }

    /// The private key in `pem` (the caller frees it), decrypted with `password`.
    static func privateKey(_ pem: [UInt8], password: String?, source: String) throws -> OpaquePointer {
        OpenSSLErrors.clear()
        let key: OpaquePointer? = try withBIO(pem) { bio in
            if let password {
                return password.withCString { text in
                    PEM_read_bio_PrivateKey(bio, nil, cloop_pem_password_callback(), UnsafeMutableRawPointer(mutating: text))
                }
            }
            return PEM_read_bio_PrivateKey(bio, nil, cloop_pem_password_callback(), nil)
        }
        if let key {
            OpenSSLErrors.clear()
            return key
        }
        let errors = OpenSSLErrors.drain()
        let encrypted = containsText(pem, "ENCRYPTED")
        if encrypted && password == nil {
            throw TLSError(.badPassword, "\(source): the private key is encrypted and no password was given", reason: errors.first?.text)
        }
        if encrypted {
            let reason = errors.first?.text ?? "bad decrypt"
            throw TLSError(.badPassword, "\(source): the private key could not be decrypted with the password given (\(reason))", reason: reason)
        }
        throw TLSError(.invalidPEM, "\(source): no PEM private key found (PEM lib: \(errors.first?.text ?? "no start line"))", reason: errors.first?.text)
    }

    private static func containsText(_ bytes: [UInt8], _ text: String) -> Bool {
        let needle = Array(text.utf8)
        guard bytes.count >= needle.count else { return false }
        for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] {
            if Array(bytes[start..<(start + needle.count)]) == needle { return true }
        }
        return false
    }
}
