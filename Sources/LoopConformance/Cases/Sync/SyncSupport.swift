import LoopCore

/// Runs a SYNC scenario as the main task of a fresh loop, runs one more iteration
/// so callbacks it left behind run, closes the loop and returns what it returned.
func syncScenario<T: Sendable>(
    _ ctx: CaseContext, _ body: @escaping @Sendable (BaseEventLoop) async throws -> T
) throws -> T {
    let loop = try ctx.makeLoop()
    let value = try loop.runUntilComplete { try await body(loop) }
    loop.stop()
    try loop.runForever()
    try loop.close()
    return value
}

/// How a task ended, as a short text: its value, "cancelled", or the error.
func outcome<T>(_ task: LoopTask<T>) async -> String {
    do {
        return "\(try await task.value)"
    } catch is CancelledError {
        return "cancelled"
    } catch {
        return describeError(error)
    }
}

/// What `body` threw, as a short text ("ok" if nothing).
func thrown(_ body: () async throws -> Void) async -> String {
    do {
        try await body()
        return "ok"
    } catch {
        return describeError(error)
    }
}

/// What `body` threw, as a short text ("ok" if nothing).
func thrownSync(_ body: () throws -> Void) -> String {
    do {
        try body()
        return "ok"
    } catch {
        return describeError(error)
    }
}

func describeError(_ error: any Error) -> String {
    switch error {
    case let error as LoopError: return "LoopError.\(error.kind): \(error.message)"
    case let error as BrokenBarrierError: return "BrokenBarrierError: \(error.message)"
    case is QueueShutDown: return "QueueShutDown"
    case is QueueEmpty: return "QueueEmpty"
    case is QueueFull: return "QueueFull"
    case is CancelledError: return "CancelledError"
    case is TimeoutError: return "TimeoutError"
    case let error as TaskGroupError: return "TaskGroupError(\(error.errors.map(describeError)))"
    case let error as SyncTestError: return "SyncTestError(\(error.tag))"
    default: return "\(error)"
    }
}

/// An error a scenario throws on purpose.
struct SyncTestError: Error, Sendable {
    let tag: String
    init(_ tag: String) { self.tag = tag }
}
