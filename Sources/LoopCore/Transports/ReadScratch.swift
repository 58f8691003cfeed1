/// The receive buffer of one loop, shared by its readiness transports.
///
/// Every read copies what arrived into the array handed to the protocol before the
/// next read can happen (all run on the loop's thread), so no transport needs a
/// buffer of its own: an idle connection costs none, and a thousand connections
/// closing at once do not each touch one.
final class ReadScratch: @unchecked Sendable {
    // @unchecked: used on the owning loop's thread only.
    /// The most one read takes (asyncio's max_size for socket reads, 256 KiB).
    static let size = 256 * 1024
    /// Untouched until the first read, so a loop that never reads pays no memory for it.
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: ReadScratch.size, alignment: 16)

    deinit { bytes.deallocate() }

    /// The first `count` bytes of the buffer, as a new array.
    func copy(_ count: Int) -> [UInt8] { Array(UnsafeRawBufferPointer(rebasing: bytes[..<count])) }
}
