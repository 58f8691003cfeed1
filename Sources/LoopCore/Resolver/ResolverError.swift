import Glibc

/// getaddrinfo or getnameinfo failed (Python's `socket.gaierror`): an unknown host or
/// service, a temporary resolver failure, an unsupported family.
public struct ResolverError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The resolver's error code: `EAI_NONAME`, `EAI_AGAIN`, `EAI_SERVICE`, … (negative on Linux).
    public let code: Int32
    /// `gai_strerror(code)`, e.g. "Name or service not known".
    public let message: String
    /// The failing call and its arguments, e.g. `getaddrinfo("example.invalid", "80")`.
    public let call: String
    /// The `errno` value when ``code`` is `EAI_SYSTEM`.
    public let systemErrno: Int32?

    public init(code: Int32, call: String, systemErrno: Int32? = nil) {
        self.code = code
        self.call = call
        self.systemErrno = code == EAI_SYSTEM ? systemErrno : nil
        if let text = gai_strerror(code) {
            self.message = String(cString: text)
        } else {
            self.message = "unknown resolver error"
        }
    }

    public var description: String {
        var text = "\(call) failed: \(message) (gai error \(code))"
        if let systemErrno { text += ": \(SystemError.describe(systemErrno)) (errno \(systemErrno))" }
        return text
    }
}
