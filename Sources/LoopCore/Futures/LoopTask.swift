import Synchronization

/// What the code running inside a ``LoopTask`` can reach: the task itself, what it
/// awaits (so cancelling the task cancels that), and its cancellation request.
/// Usable from inlinable code: the await path is specialised in callers' modules.
@usableFromInline
final class LoopTaskContext: @unchecked Sendable {
    @usableFromInline init() {}

    // @unchecked: read and written only on the task's loop thread (the task runs there).
    /// The context of the LoopTask the caller runs in (or a child task of it).
    @usableFromInline static let binding = TaskLocal<LoopTaskContext?>(wrappedValue: nil)
    @inlinable static var current: LoopTaskContext? { binding.get() }

    /// The task, while its body runs (cleared when it finishes or its loop closes,
    /// which breaks the task → context → task cycle).
    @usableFromInline @exclusivity(unchecked) var task: AnyObject?
    /// The future the task is suspended on; cancelling the task cancels it.
    @usableFromInline @exclusivity(unchecked) var awaiting: (any AwaitedFuture)?
    @usableFromInline @exclusivity(unchecked) var cancelRequested = false
    /// A cancellation requested while the body was not suspended on a future: the
    /// body's next await throws it (asyncio's `_must_cancel`).
    @usableFromInline @exclusivity(unchecked) var mustCancel = false
    @usableFromInline @exclusivity(unchecked) var cancelMessage: String?
    /// The Swift task running the body (not its child tasks, which inherit this context).
    @usableFromInline @exclusivity(unchecked) var swiftTask: UnsafeCurrentTask?

    /// Links of the loop's list of running tasks (see `TaskTable`), guarded by its lock.
    var nextOwned: LoopTaskContext?
    unowned(unsafe) var previousOwned: LoopTaskContext?

    /// Whether this context is in the list that starts at `head`.
    func isOwned(by head: LoopTaskContext?) -> Bool { previousOwned != nil || head === self }

    /// Whether the caller runs in the task's own Swift task (not in a child task).
    @usableFromInline
    var isOwnSwiftTask: Bool {
        // Unwrapped first: comparing the optionals would go through Optional's generic ==.
        withUnsafeCurrentTask { current in
            guard let current, let own = swiftTask else { return false }
            return current == own
        }
    }
}

@usableFromInline let taskCounter = Atomic<Int>(0)

/// A Swift `async` body running on a loop, as a future of its result (asyncio's `Task`).
///
/// The body runs as a Swift task whose executor preference is the loop, so every
/// `await` inside it resumes on the loop's thread. The body does not start before
/// the loop runs its first step. ``cancel(message:)`` cancels what the body awaits,
/// which then throws ``CancelledError``; a body that ends with that error leaves the
/// task cancelled, one that catches it and returns leaves it finished.
public final class LoopTask<Value>: Future<Value>, EventLoopTask, @unchecked Sendable {
    // @unchecked: like every Future, confined to its loop's thread.
    /// The task's name, "Task-<n>" unless one was given.
    public var name: String { givenName ?? "Task-\(number)" }
    @usableFromInline var givenName: String?
    /// The task's serial number; its default name is built only when asked for.
    @usableFromInline let number: Int
    @usableFromInline let context = LoopTaskContext()
    @usableFromInline var swiftTask: Task<Void, Never>?
    @usableFromInline var cancelRequests = 0
    @usableFromInline let table: TaskTable

    /// Creates and schedules a task (asyncio's private `Task(coro, loop=, name=)`
    /// constructor, public so third-party loops can reuse it). Prefer `createTask`.
    ///
    /// Inlinable, like the await path, so that each task's body and completion are
    /// specialised for `Value` in the caller's module instead of looking up generic
    /// metadata at run time.
    @inlinable
    public init(
        loop: any EventLoop & TaskExecutor,
        name: String? = nil,
        sourceLocation: SourceLocation? = nil,
        eagerStart: Bool = false,
        _ body: sending @escaping () async throws -> Value
    ) {
        givenName = name
        number = taskCounter.add(1, ordering: .relaxed).newValue
        table = loop.taskTable
        super.init(loop: loop, sourceLocation: sourceLocation, kindLabel: "Task", completesThroughBody: true)
        context.task = self
        table.own(context)
        // The Swift task reaches the LoopTask only through its context, whose reference
        // is cleared when the task finishes or its loop closes: a pending task that a
        // closed loop dropped is then released and reports that it died pending.
        let context = self.context
        // `body` is handed over once, to the Swift task below (it was passed `sending`);
        // the synchronous binding scope in between cannot express that.
        nonisolated(unsafe) let body = body
        // The context is bound around the creation, which copies it into the new task:
        // binding it inside the body would add an async frame and a task-local push to
        // every task.
        // Eager start (see EagerStart.swift) runs the body's first step right here,
        // on the loop thread, when the loop is running on it; otherwise the body's
        // first step is queued like any task's.
        let eager = eagerStart && RunningLoop.isCurrent(loop)
        swiftTask = LoopTaskContext.binding.withValue(context) {
            eager ? Task.immediate(executorPreference: loop, operation: operation) : Task(executorPreference: loop, operation: operation)
        }
        @Sendable func operation() async {
            context.swiftTask = withUnsafeCurrentTask { $0 }
            defer { context.swiftTask = nil }
            func finish(_ final: State) {
                guard let task = context.task else { return }
                unsafeDowncast(task, to: LoopTask<Value>.self).finish(final)
            }
            if context.cancelRequested {
                finish(.cancelled(CancelledError(message: context.cancelMessage)))
                return
            }
            do {
                let value = try await body()
                finish(.finished(value))
            } catch let error as CancelledError {
                finish(.cancelled(error))
            } catch is CancellationError {
                finish(.cancelled(CancelledError(message: context.cancelMessage)))
            } catch {
                finish(.failed(error))
            }
        }
    }

    deinit {
        guard !isDone else { return }
        swiftTask?.cancel()
        var report = ExceptionContext(
            message: "Task was destroyed but it is pending!",
            task: ReleasedFuture(description: describe(), identifier: ObjectIdentifier(self))
        )
        if let sourceLocation { report.sourceTraceback = [sourceLocation] }
        loop.callExceptionHandler(report)
    }

    @inlinable
    final func finish(_ final: State) {
        guard !isDone else { return }
        do {
            try complete(final)
        } catch {
            // The loop closed under the task: the outcome is kept, only the callbacks are lost.
        }
        table.release(context)
        context.task = nil
    }

    /// Changes the task's name.
    public func setName(_ newName: String) { givenName = newName }

    /// Asks the task to stop: what it awaits is cancelled now and the body sees
    /// ``CancelledError`` at its current or next `await`. Returns `false` if the task
    /// is already done.
    @discardableResult
    public override func cancel(message: String? = nil) -> Bool {
        guard !isDone else { return false }
        cancelRequests += 1
        context.cancelRequested = true
        context.cancelMessage = message
        // Not suspended, or the awaited future already completed (its result is on the
        // way): the body's next resumption or suspension delivers the cancellation.
        if context.awaiting?.cancel(message: message) != true { context.mustCancel = true }
        swiftTask?.cancel()
        return true
    }

    /// How many cancellation requests are pending (asyncio's `cancelling()`).
    public var cancelling: Int { cancelRequests }

    /// Withdraws one cancellation request and returns how many remain (asyncio's
    /// `uncancel()`). A body that handles cancellation and goes on calls this.
    @discardableResult
    public func uncancel() -> Int {
        if cancelRequests > 0 { cancelRequests -= 1 }
        if cancelRequests == 0 {
            context.cancelRequested = false
            context.mustCancel = false
        }
        return cancelRequests
    }

    override var displayName: String { "Task \(name)" }
}
