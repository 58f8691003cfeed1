/// A future of any value type, as the helpers see it (gather, wait, shield, runner
/// shutdown): its state, cancellation and done callbacks, without its value.
protocol AnyLoopFuture: AnyObject {
    var loop: any EventLoop { get }
    var isDone: Bool { get }
    var isCancelled: Bool { get }
    @discardableResult func cancel(message: String?) -> Bool
    /// For a done future: `nil` if it has a value, else its error (marked retrieved)
    /// or its ``CancelledError``.
    func completionError() -> (any Error)?
    /// Registers `body` as a done callback; the token removes it again.
    func addCompletionCallback(_ body: @escaping () throws -> Void) throws -> AnyObject
    func removeCompletionCallback(_ token: AnyObject)
}

extension Future: AnyLoopFuture {
    func completionError() -> (any Error)? {
        switch state {
        case .pending, .finished:
            return nil
        case .failed(let error):
            markErrorRetrieved()
            return error
        case .cancelled(let error):
            return error
        }
    }

    func addCompletionCallback(_ body: @escaping () throws -> Void) throws -> AnyObject {
        try addDoneCallback { _ in try body() }
    }

    func removeCompletionCallback(_ token: AnyObject) {
        if let callback = token as? DoneCallback<Value> { removeDoneCallback(callback) }
    }
}

/// The future ``gather(_:file:line:)`` returns: cancelling it cancels every child
/// that is still pending (asyncio's `_GatheringFuture`).
final class GatheringFuture<Value>: Future<Value>, @unchecked Sendable {
    // @unchecked: like every Future, confined to its loop's thread.
    private let children: [any AnyLoopFuture]
    private var cancelRequested = false

    init(loop: any EventLoop, sourceLocation: SourceLocation?, children: [any AnyLoopFuture]) {
        self.children = children
        super.init(loop: loop, sourceLocation: sourceLocation, kindLabel: "Future", completesThroughBody: false)
    }

    /// Cancels every pending child; returns whether any was cancelled. The gather
    /// itself ends cancelled once the children have finished.
    @discardableResult
    override func cancel(message: String? = nil) -> Bool {
        guard !isDone else { return false }
        var cancelledAny = false
        for child in children where child.cancel(message: message) { cancelledAny = true }
        if cancelledAny { cancelRequested = true }
        return cancelledAny
    }

    /// Wires the children to this future. `collect` builds the value once every
    /// child is done; with `returnErrors` false the first failure completes it.
    func start(returnErrors: Bool, collect: @escaping () throws -> Value) throws {
        var unique: [any AnyLoopFuture] = []
        var seen = Set<ObjectIdentifier>()
        for child in children where seen.insert(ObjectIdentifier(child)).inserted { unique.append(child) }
        let total = unique.count
        var finished = 0
        for child in unique {
            _ = try child.addCompletionCallback { [self] in
                finished += 1
                if isDone {
                    // Seen, so a late failure is not reported as never retrieved.
                    _ = child.completionError()
                    return
                }
                if !returnErrors, let error = child.completionError() {
                    if let cancelled = error as? CancelledError {
                        try complete(.cancelled(cancelled))
                    } else {
                        try setException(error)
                    }
                    return
                }
                guard finished == total else { return }
                if cancelRequested {
                    try complete(.cancelled(child.completionError() as? CancelledError ?? CancelledError()))
                    return
                }
                let value: Value
                do {
                    value = try collect()
                } catch {
                    try setException(error)
                    return
                }
                try setResult(value)
            }
        }
    }
}

/// Checks that every child runs on one loop and returns it (`nil` for no children).
private func commonLoop(_ children: [any AnyLoopFuture], call: String) throws -> (any EventLoop)? {
    guard let loop = children.first?.loop else { return nil }
    for child in children where child.loop !== loop {
        throw LoopError(.differentLoop, "\(call): the futures belong to different loops; gather futures of one loop")
    }
    return loop
}

private func startGather<Value>(
    _ children: [any AnyLoopFuture], returnErrors: Bool, call: String,
    file: StaticString, line: UInt, collect: @escaping () throws -> Value
) throws -> Future<Value> {
    guard let loop = try commonLoop(children, call: call) else {
        let loop = try RunningLoop.get()
        let done = Future<Value>(loop: loop, sourceLocation: loop.debug ? SourceLocation(file, line) : nil)
        try done.setResult(collect())
        return done
    }
    let outer = GatheringFuture<Value>(
        loop: loop, sourceLocation: loop.debug ? SourceLocation(file, line) : nil, children: children)
    try outer.start(returnErrors: returnErrors, collect: collect)
    return outer
}

/// A future of the results of `children`, in argument order (asyncio's `gather`).
///
/// Tasks and plain futures are accepted; all must belong to one loop. The first
/// child that fails (or is cancelled) completes the gather with that error at
/// once; the other children are not cancelled and keep running. Cancelling the
/// returned future cancels every child that is still pending, and the gather
/// then ends cancelled. With no children the result is an empty array, on the
/// running loop.
///
/// ```swift
/// let (a, b) = (try createTask { try await fetch(1) }, try createTask { try await fetch(2) })
/// let values = try await gather([a, b]).value
/// ```
public func gather<T>(
    _ children: [Future<T>], file: StaticString = #fileID, line: UInt = #line
) throws -> Future<[T]> {
    try startGather(children, returnErrors: false, call: "gather", file: file, line: line) {
        try children.map { try $0.result() }
    }
}

/// A future of the outcome of every child, in argument order, failures included
/// (asyncio's `gather(..., return_exceptions=True)`).
///
/// It completes once every child is done: a child's error, or the
/// ``CancelledError`` of a child cancelled from outside, appears as a `.failure`
/// in its slot. Cancelling the returned future cancels the pending children and
/// leaves the gather cancelled.
public func gatherResults<T>(
    _ children: [Future<T>], file: StaticString = #fileID, line: UInt = #line
) throws -> Future<[Result<T, any Error>]> {
    try startGather(children, returnErrors: true, call: "gatherResults", file: file, line: line) {
        children.map { outcome(of: $0) }
    }
}

/// A future of the results of futures of different types, as a tuple in argument
/// order (asyncio's `gather(a, b, ...)`); otherwise as ``gather(_:file:line:)``.
///
/// ```swift
/// let (name, count) = try await gather(nameTask, countTask).value
/// ```
public func gather<each T>(
    _ children: repeat Future<each T>, file: StaticString = #fileID, line: UInt = #line
) throws -> Future<(repeat each T)> {
    var erased: [any AnyLoopFuture] = []
    for child in repeat each children { erased.append(child) }
    let all = (repeat each children)
    return try startGather(erased, returnErrors: false, call: "gather", file: file, line: line) {
        (repeat try (each all).result())
    }
}

/// A future of the outcomes of futures of different types, as a tuple of
/// `Result`s in argument order; otherwise as ``gatherResults(_:file:line:)``.
public func gatherResults<each T>(
    _ children: repeat Future<each T>, file: StaticString = #fileID, line: UInt = #line
) throws -> Future<(repeat Result<each T, any Error>)> {
    var erased: [any AnyLoopFuture] = []
    for child in repeat each children { erased.append(child) }
    let all = (repeat each children)
    return try startGather(erased, returnErrors: true, call: "gatherResults", file: file, line: line) {
        (repeat outcome(of: each all))
    }
}

/// The outcome of a done future as a `Result` (a cancelled one gives its ``CancelledError``).
private func outcome<V>(of future: Future<V>) -> Result<V, any Error> {
    Result { try future.result() }
}
