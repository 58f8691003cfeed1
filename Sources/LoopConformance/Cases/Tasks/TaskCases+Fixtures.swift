import LoopCore
import Synchronization

/// The fixtures the TASK cases share.
extension TaskCases {
    /// Suspends the calling task for `delay` (a timer resolving a future); the timer is
    /// cancelled when the wait ends early.
    static func sleepOnLoop(_ loop: any EventLoop, _ delay: Duration) async throws {
        let future = loop.createFuture(of: Void.self)
        let timer = try loop.callLater(delay) { if !future.isDone { try future.setResult(()) } }
        defer { timer.cancel() }
        try await future.value
    }

    /// A task awaiting `future` that returns "value <its result>", or "caught <message>"
    /// when it is cancelled.
    static func catchingTask(_ loop: BaseEventLoop, awaiting future: Future<Int>) throws -> LoopTask<String> {
        try loop.createTask { () async throws -> String in
            do {
                return "value \(try await future.value)"
            } catch let error as CancelledError {
                return "caught \(error.message ?? "nil")"
            }
        }
    }

    /// A task awaiting `future` that records "<name>:<message>" in `seen` when it is
    /// cancelled, and rethrows the CancelledError.
    static func recordingTask(
        _ loop: BaseEventLoop, _ name: String, awaiting future: Future<Int>, into seen: Recorder<String>
    ) throws -> LoopTask<Int> {
        try loop.createTask { () async throws -> Int in
            do {
                return try await future.value
            } catch let error as CancelledError {
                seen.record("\(name):\(error.message ?? "nil")")
                throw error
            }
        }
    }

    /// A task type of a third party, made visible through the task-lifetime functions.
    final class ForeignTask: EventLoopTask {
        let loop: any EventLoop
        let name: String
        private let done = Atomic<Bool>(false)

        init(loop: any EventLoop, name: String) {
            self.loop = loop
            self.name = name
        }

        var isDone: Bool { done.load(ordering: .relaxed) }

        func finish() { done.store(true, ordering: .relaxed) }
    }

    /// A task factory that records its calls and names its tasks "factory-<name>".
    struct RecordingTaskFactory: TaskFactory {
        let id: String
        let calls = Recorder<String>()

        func makeTask<T>(
            loop: any EventLoop & TaskExecutor, name: String?, sourceLocation: SourceLocation?,
            _ body: sending @escaping () async throws -> T
        ) -> LoopTask<T> {
            calls.record(name ?? "nil")
            return LoopTask(loop: loop, name: "factory-\(name ?? "nil")", sourceLocation: sourceLocation, body)
        }
    }

    /// An actor whose serial executor is the loop.
    actor LoopBoundCounter {
        let loop: BaseEventLoop
        private(set) var value = 0

        init(loop: BaseEventLoop) { self.loop = loop }

        nonisolated var unownedExecutor: UnownedSerialExecutor { loop.asUnownedSerialExecutor() }

        /// Counts one and says whether it ran on the loop's thread.
        func increment() -> Bool {
            value += 1
            return loop.isOnLoopThread
        }
    }
}
