import Glibc

/// Writes to stdout or stderr with write(2): unbuffered, so progress lines and a
/// child's report are never held back or interleaved out of order.
enum Output {
    static func out(_ text: String) { emit(1, text) }
    static func err(_ text: String) { emit(2, text) }

    private static func emit(_ fd: Int32, _ text: String) {
        var text = text
        text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let written = write(fd, base + offset, buffer.count - offset)
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }
}
