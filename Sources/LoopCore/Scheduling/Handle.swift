/// A callback scheduled on a loop, returned by `callSoon` and friends.
///
/// Cancel it to make sure the callback never runs; cancelling after it ran is harmless.
/// A handle belongs to its loop's thread.
public class Handle: @unchecked Sendable, CustomStringConvertible {
    // @unchecked: a handle is created and run on its loop's thread; the only thing
    // another thread does is receive it from callSoonThreadsafe. Debug mode rejects
    // cancel() off the loop thread for timer handles through the loop's thread check.
    @usableFromInline
    @exclusivity(unchecked) var callback: (() throws -> Void)?
    /// Where the callback was scheduled; recorded in debug mode only.
    public let sourceLocation: SourceLocation?
    @usableFromInline
    @exclusivity(unchecked) var isCancelledFlag = false

    @usableFromInline
    init(callback: @escaping () throws -> Void, sourceLocation: SourceLocation?) {
        self.callback = callback
        self.sourceLocation = sourceLocation
    }

    /// Whether ``cancel()`` was called.
    public var isCancelled: Bool { isCancelledFlag }

    /// Prevents the callback from running. Idempotent; harmless after it ran.
    public func cancel() {
        guard !isCancelledFlag else { return }
        isCancelledFlag = true
        callback = nil
    }

    /// What kind of handle this is, for messages.
    var kindName: String { "Handle" }

    public var description: String {
        var text = "<\(kindName)"
        if isCancelledFlag { text += " cancelled" }
        if let sourceLocation { text += " created at \(sourceLocation)" }
        return text + ">"
    }
}

/// A callback scheduled for a point in the loop's time, returned by `callLater` / `callAt`.
public final class TimerHandle: Handle, @unchecked Sendable {
    /// When the callback is due, in the loop's time (seconds, see `EventLoop.time()`).
    public let when: Double
    /// Whether the handle is still in its loop's timer heap (used to count lazy deletions).
    @exclusivity(unchecked) var isScheduled = false
    /// The heap's count of cancelled entries, told of a cancellation while scheduled.
    /// Unretained: it is only used while `isScheduled`, which holds only while the
    /// handle is inside a live heap (which owns the counter).
    @exclusivity(unchecked) var cancellations: Unmanaged<TimerCancellations>?

    init(when: Double, callback: @escaping () throws -> Void, sourceLocation: SourceLocation?) {
        self.when = when
        super.init(callback: callback, sourceLocation: sourceLocation)
    }

    public override func cancel() {
        guard !isCancelledFlag else { return }
        super.cancel()
        if isScheduled, let cancellations { cancellations.takeUnretainedValue().count += 1 }
    }

    override var kindName: String { "TimerHandle when=\(when)" }
}
