@_exported import LoopCore
import LoopEpoll
import LoopLibevent
import LoopPoll
import LoopUring

/// The backends that ship with this package, and the one call that registers them.
///
/// Swift modules cannot register themselves when they load, so something outside
/// `LoopCore` has to know the built-in backends; this is that place.
public enum BuiltinBackends {
    /// Every built-in backend: epoll, io_uring, libevent, poll.
    public static var descriptors: [BackendDescriptor] {
        [EpollSelector.descriptor, UringSelector.descriptor, LibeventSelector.descriptor, PollSelector.descriptor]
    }

    /// Registers every built-in backend in `registry` (the shared one by default).
    /// Safe to call many times and from many threads.
    public static func register(in registry: BackendRegistry = .shared) {
        for descriptor in descriptors { registry.registerIfAbsent(descriptor) }
    }
}

/// Makes a loop on the backend chosen by `LOOP_BACKEND` (or the best available
/// one), after registering the built-in backends. This is the default loop factory.
public func newEventLoop() throws -> BaseEventLoop {
    BuiltinBackends.register()
    return try BackendRegistry.shared.makeLoop()
}
