/// The loop a synchronization primitive belongs to, bound on first use from a task
/// (asyncio's `_LoopBoundMixin`): a primitive made outside any loop binds to the loop
/// of the first task that has to wait on it, and refuses every other loop after that.
struct LoopBinding {
    private(set) var loop: (any EventLoop)?

    init(_ loop: (any EventLoop)?) { self.loop = loop }

    /// The running loop, which must be the bound one (binding it if none is yet).
    /// Throws ``LoopError/Kind-swift.enum/noRunningLoop`` outside a loop and
    /// ``LoopError/Kind-swift.enum/differentLoop`` on another loop.
    mutating func get(_ owner: @autoclosure () -> String) throws -> any EventLoop {
        let running = try RunningLoop.get()
        if let loop {
            guard loop === running else {
                throw LoopError(
                    .differentLoop,
                    "\(owner()) is bound to a different event loop; use it only from tasks of the loop it was first used on")
            }
            return loop
        }
        loop = running
        return running
    }
}
