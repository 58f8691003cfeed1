/// The 64 bits of `user_data` every SQE of ``UringSelector`` carries, so each completion
/// names what it is about without a lookup table:
///
/// | bits   | field      | meaning                                                   |
/// |--------|------------|-----------------------------------------------------------|
/// | 63..56 | tag        | ``Tag``: a readiness poll, an update, a remove, the wakeup |
/// | 55..32 | generation | which arming of the fd's poll (24 bits, wraps)             |
/// | 31..0  | fd         | the descriptor                                             |
///
/// The generation is the identity of one kernel poll request: every fresh
/// `IORING_OP_POLL_ADD`, every modify and every unregister moves the fd's generation on,
/// so a completion still in flight for an earlier one (an fd unregistered, or re-armed
/// since) no longer matches and is dropped, never reported.
struct UringUserData: Equatable {
    enum Tag: UInt8 {
        /// The multishot poll of a registered fd.
        case poll = 1
        /// A poll update (modify or level re-check); only failures post a completion.
        case update = 2
        /// A poll remove (unregister); only failures post a completion, and they are ignored.
        case remove = 3
        /// The multishot poll of the wakeup eventfd.
        case wake = 4
    }

    static let generationMask: UInt32 = 0x00FF_FFFF

    var tag: UInt8
    var generation: UInt32
    var fd: Int32

    init(_ tag: Tag, generation: UInt32, fd: Int32) {
        self.tag = tag.rawValue
        self.generation = generation & Self.generationMask
        self.fd = fd
    }

    init(rawValue: UInt64) {
        tag = UInt8(truncatingIfNeeded: rawValue >> 56)
        generation = UInt32(truncatingIfNeeded: rawValue >> 32) & Self.generationMask
        fd = Int32(bitPattern: UInt32(truncatingIfNeeded: rawValue))
    }

    var rawValue: UInt64 {
        UInt64(tag) << 56 | UInt64(generation & Self.generationMask) << 32 | UInt64(UInt32(bitPattern: fd))
    }

    /// The generation after `generation`, within 24 bits.
    static func next(_ generation: UInt32) -> UInt32 { (generation &+ 1) & generationMask }
}
