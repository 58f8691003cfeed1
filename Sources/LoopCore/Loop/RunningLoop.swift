import CLoopShims

/// The loop running on the current thread (asyncio's `get_running_loop` and
/// `_set_running_loop`).
public enum RunningLoop {
    /// The loop running on this thread, or `nil`.
    public static var current: (any EventLoop)? {
        guard let raw = cloop_running_loop() else { return nil }
        return Unmanaged<AnyObject>.fromOpaque(raw).takeUnretainedValue() as? any EventLoop
    }

    /// The loop running on this thread; throws ``LoopError/Kind-swift.enum/noRunningLoop``
    /// when there is none.
    public static func get() throws -> any EventLoop {
        guard let loop = current else {
            throw LoopError(.noRunningLoop, "no running event loop: call this from a callback or task running on a loop")
        }
        return loop
    }

    /// Records `loop` as running on this thread (`nil` clears it). A loop calls this
    /// when it starts and stops running; third-party loops that do not derive from
    /// ``BaseEventLoop`` call it too. The loop is not retained.
    public static func set(_ loop: (any EventLoop)?) {
        if let loop {
            cloop_set_running_loop(Unmanaged.passUnretained(loop as AnyObject).toOpaque())
        } else {
            cloop_set_running_loop(nil)
        }
    }

    static var isSet: Bool { cloop_running_loop() != nil }

    /// Whether `loop` is the loop running on this thread (a pointer comparison, no cast).
    @inlinable
    static func isCurrent(_ loop: any EventLoop) -> Bool {
        cloop_running_loop() == Unmanaged.passUnretained(loop as AnyObject).toOpaque()
    }
}
