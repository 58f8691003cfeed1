@_spi(Backend) import LoopCore
import Synchronization

/// A ``SelectorBackend`` whose clock is virtual: ``now()`` moves only when told to,
/// never with the wall clock. File-descriptor readiness and wakeups are delegated to
/// a real backend it wraps (e.g. `PollSelector`), so a virtual-time loop still
/// watches fds and still takes `callSoonThreadsafe` from other threads.
///
/// It is a ``ForwardingBackend`` that changes the clock hook: ``now()`` is what makes
/// the loop's `time()`, `callLater` and `callAt` virtual, and ``wait(timeout:into:)``
/// decides what happens when the loop would sleep until a timer (see ``IdlePolicy``).
/// ``VirtualTimeLoop`` wraps it in the test-facing API (`advance(by:)`, `runUntilIdle()`).
///
/// It declares every capability of the backend it wraps except
/// ``BackendCapabilities/realTime``, so conformance cases that need the wall clock
/// are skipped with that reason.
///
/// It does not forward the transport hook (``SelectorBackend/makeSocketTransport(_:)``):
/// stream connections get the loop's readiness-based ``SocketTransport`` whatever the
/// wrapped backend supplies, because a backend's own transport may make progress
/// inside `wait` without reporting an fd, which would let the clock jump past it.
///
/// ## Threading
/// Every hook is called on the loop's thread except ``wakeup()`` (any thread, as for
/// every backend) and ``now()``, which reads an atomic and may be called anywhere.
/// ``advanceClock(by:)`` and ``advanceClock(to:)`` may be called from any thread: they
/// move the clock and wake the loop so it looks at its timers again.
public final class VirtualClockBackend: ForwardingBackend, @unchecked Sendable {
    // @unchecked: every stored property is a constant or an atomic.
    /// What ``wait(timeout:into:)`` does when the loop would sleep until its next timer
    /// (a timer is scheduled, none is due, nothing is ready to run).
    public enum IdlePolicy: Sendable, Hashable, CustomStringConvertible {
        /// The clock moves only through ``VirtualClockBackend/advanceClock(by:)`` (or
        /// ``VirtualTimeLoop/advance(by:)``). A loop left running with only future
        /// timers does not spin: it blocks, without a timeout, until a watched fd is
        /// ready or a wakeup arrives (`callSoonThreadsafe`, or another thread moving
        /// the clock), exactly like a real loop with no timers at all.
        case manual
        /// When no fd is ready and no wakeup came in, the clock jumps to the next
        /// timer's deadline at once, so a running loop goes through its timers in
        /// deadline order without any real waiting (trio's "autojump" clock). A timer
        /// therefore always beats another thread that has not acted yet.
        case jumpToNextTimer

        public var description: String {
            switch self {
            case .manual: return "manual"
            case .jumpToNextTimer: return "jump to next timer"
            }
        }
    }

    /// The registry name given by default, `"virtual"`.
    public static let defaultName = "virtual"

    /// This backend's identity: its name, and the wrapped backend's capabilities
    /// without ``BackendCapabilities/realTime``.
    private let identity: BackendDescriptor
    /// What a wait that would sleep until a timer does.
    public let idlePolicy: IdlePolicy

    /// The clock, as the bit pattern of a `Double` (seconds).
    private let clockBits: Atomic<UInt64>
    /// Set by ``wakeup()``, so a jumping wait can tell that another thread acted.
    private let wokenUp = Atomic<Bool>(false)
    /// Whether the last wait reported any ready fd (read by ``VirtualTimeLoop/runUntilIdle()``).
    private let reportedReadiness = Atomic<Bool>(false)

    /// A virtual clock over `inner`, starting at `start` seconds.
    ///
    /// - Parameters:
    ///   - inner: a fresh backend the loop does not use otherwise; this backend owns it
    ///     and closes it in ``close()``.
    ///   - name: the registry name (default `"virtual"`).
    ///   - start: the loop time before any advance.
    ///   - idlePolicy: what happens when the loop would sleep until a timer.
    public convenience init(
        wrapping inner: any SelectorBackend,
        name: String = VirtualClockBackend.defaultName,
        start: Double = 0,
        idlePolicy: IdlePolicy = .manual
    ) {
        self.init(wrapping: inner, name: name, start: start, idlePolicy: idlePolicy, priority: Self.defaultPriority)
    }

    private init(wrapping inner: any SelectorBackend, name: String, start: Double, idlePolicy: IdlePolicy, priority: Int) {
        self.identity = Self.identity(
            over: inner.descriptor, name: name, start: start, idlePolicy: idlePolicy, priority: priority)
        self.idlePolicy = idlePolicy
        self.clockBits = Atomic(start.isFinite ? start.bitPattern : Double(0).bitPattern)
        super.init(wrapping: inner)
    }

    /// The priority a virtual-clock backend is registered with unless told otherwise:
    /// below every real backend, so it is used only when asked for by name.
    public static let defaultPriority = -100

    /// A registry entry making virtual-clock backends over fresh `inner` backends.
    ///
    /// The idle policy defaults to ``IdlePolicy/jumpToNextTimer``: loops made through
    /// a registry (or by the conformance harness) are driven with `runForever`, and
    /// their timers must fire without anyone advancing the clock.
    public static func descriptor(
        wrapping inner: BackendDescriptor,
        name: String = VirtualClockBackend.defaultName,
        start: Double = 0,
        idlePolicy: IdlePolicy = .jumpToNextTimer,
        priority: Int = VirtualClockBackend.defaultPriority
    ) -> BackendDescriptor {
        identity(over: inner, name: name, start: start, idlePolicy: idlePolicy, priority: priority)
    }

    private static func identity(
        over inner: BackendDescriptor, name: String, start: Double, idlePolicy: IdlePolicy, priority: Int
    ) -> BackendDescriptor {
        BackendDescriptor(
            name: name,
            summary: "virtual clock (\(idlePolicy)) over \(inner.name): time moves only when told",
            priority: priority,
            capabilities: inner.capabilities.subtracting(.realTime),
            availability: inner.availability,
            make: {
                VirtualClockBackend(
                    wrapping: try inner.make(), name: name, start: start, idlePolicy: idlePolicy, priority: priority)
            }
        )
    }

    // MARK: The clock

    /// The loop time: where the virtual clock stands, in seconds.
    public override func now() -> Double { Double(bitPattern: clockBits.load(ordering: .acquiring)) }

    /// Moves the clock forward by `duration` and wakes the loop. Runs nothing by itself:
    /// a running loop sees the new time on its next iteration. Any thread.
    ///
    /// - Throws: ``LoopError`` `.invalidArgument` for a negative duration.
    public func advanceClock(by duration: Duration) throws {
        guard duration >= .zero else {
            throw LoopError(
                .invalidArgument,
                "VirtualClockBackend.advanceClock(by:): the clock never goes backwards, got \(duration); pass a duration >= 0")
        }
        let seconds = duration.virtualSeconds
        move { $0 + seconds }
    }

    /// Moves the clock forward to loop time `time` (a time already passed leaves it
    /// where it is) and wakes the loop. Runs nothing by itself. Any thread.
    ///
    /// - Throws: ``LoopError`` `.invalidArgument` for a non-finite time.
    public func advanceClock(to time: Double) throws {
        guard time.isFinite else {
            throw LoopError(.invalidArgument, "VirtualClockBackend.advanceClock(to:): the time must be finite, got \(time)")
        }
        move { _ in time }
    }

    /// Moves the clock forward to `time` (never back), waking the loop if asked.
    func moveClock(to time: Double, wakingTheLoop wake: Bool) {
        move(wakingTheLoop: wake) { _ in time }
    }

    /// Whether the last ``wait(timeout:into:)`` reported a ready fd.
    var lastWaitReportedReadiness: Bool { reportedReadiness.load(ordering: .relaxed) }

    private func move(wakingTheLoop wake: Bool = true, _ next: (Double) -> Double) {
        var current = clockBits.load(ordering: .relaxed)
        while true {
            let target = max(Double(bitPattern: current), next(Double(bitPattern: current)))
            let (exchanged, original) = clockBits.compareExchange(
                expected: current, desired: target.bitPattern, ordering: .acquiringAndReleasing)
            if exchanged { break }
            current = original
        }
        if wake { inner.wakeup() }
    }

    // MARK: Hooks

    public override var descriptor: BackendDescriptor { identity }

    public override var details: String { "virtual clock (\(idlePolicy)) over \(inner.name)" }

    /// Declines: stream connections get the loop's own ``SocketTransport`` (see the type's notes).
    public override func makeSocketTransport(_ request: SocketTransportRequest) throws -> (any Transport)? { nil }

    /// A zero or absent timeout goes to the wrapped backend unchanged (poll, or block
    /// until I/O or a wakeup). A positive timeout means the loop would sleep until a
    /// timer in virtual time: what happens then is the ``idlePolicy``.
    public override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        defer { reportedReadiness.store(!ready.isEmpty, ordering: .relaxed) }
        guard let timeout, timeout > .zero else {
            try inner.wait(timeout: timeout, into: &ready)
            return
        }
        switch idlePolicy {
        case .manual:
            try inner.wait(timeout: nil, into: &ready)
        case .jumpToNextTimer:
            wokenUp.store(false, ordering: .sequentiallyConsistent)
            try inner.wait(timeout: .zero, into: &ready)
            if ready.isEmpty && !wokenUp.load(ordering: .sequentiallyConsistent) {
                let seconds = timeout.virtualSeconds
                // On the loop thread, about to return: no wakeup needed.
                move(wakingTheLoop: false) { $0 + seconds }
            }
        }
    }

    public override func wakeup() {
        wokenUp.store(true, ordering: .sequentiallyConsistent)
        inner.wakeup()
    }
}

extension Duration {
    /// The duration in seconds, as loop time counts them.
    var virtualSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) * 1e-18
    }
}
