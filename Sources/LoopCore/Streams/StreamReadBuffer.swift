/// The bytes a ``StreamReader`` received and has not handed out yet: an array read
/// from a moving start offset, compacted once the consumed prefix is at least half of
/// the storage, so taking from the front costs time proportional to what is taken.
struct StreamReadBuffer {
    private var storage: [UInt8] = []
    private var start = 0

    /// Unread bytes.
    var count: Int { storage.count - start }

    var isEmpty: Bool { start == storage.count }

    mutating func append(_ bytes: [UInt8]) {
        storage.append(contentsOf: bytes)
    }

    /// Removes and returns the first `n` bytes (fewer when fewer are there).
    mutating func take(_ n: Int) -> [UInt8] {
        let end = start + min(max(n, 0), count)
        let taken = Array(storage[start..<end])
        start = end
        compact()
        return taken
    }

    /// Removes and returns every unread byte.
    mutating func takeAll() -> [UInt8] { take(count) }

    /// Discards the first `n` bytes.
    mutating func drop(_ n: Int) {
        start += min(max(n, 0), count)
        compact()
    }

    mutating func removeAll() {
        storage.removeAll(keepingCapacity: false)
        start = 0
    }

    /// The position (counted from the first unread byte) of the first occurrence of
    /// `separator` at or after `offset`, or `nil`.
    func firstIndex(of separator: [UInt8], from offset: Int) -> Int? {
        guard let first = separator.first, offset >= 0 else { return nil }
        let last = storage.count - separator.count
        var index = start + offset
        while index <= last {
            guard let hit = storage[index...last].firstIndex(of: first) else { return nil }
            if matches(separator, at: hit) { return hit - start }
            index = hit + 1
        }
        return nil
    }

    /// Whether the unread bytes hold `bytes` at `offset`.
    func contains(_ bytes: [UInt8], at offset: Int) -> Bool {
        offset >= 0 && start + offset + bytes.count <= storage.count && matches(bytes, at: start + offset)
    }

    private func matches(_ bytes: [UInt8], at index: Int) -> Bool {
        for (position, byte) in bytes.enumerated() where storage[index + position] != byte { return false }
        return true
    }

    private mutating func compact() {
        if start == storage.count {
            storage.removeAll(keepingCapacity: storage.capacity <= 1 << 20)
            start = 0
        } else if start >= 4096 && start * 2 >= storage.count {
            storage.removeSubrange(0..<start)
            start = 0
        }
    }
}
