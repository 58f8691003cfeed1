@_exported import LoopCore
@_exported import LoopTLS
@_spi(Backend) import LoopEpoll
@_spi(Backend) import LoopLibevent
@_spi(Backend) import LoopPoll
@_spi(Backend) import LoopUring

/// The backends that ship with this package, and the one call that registers them.
///
/// Swift modules cannot register themselves when they load, so something outside
/// `LoopCore` has to know the built-in backends; this is that place.
public enum BuiltinBackends {
    /// The epoll backend (`LOOP_BACKEND=epoll`).
    public static var epoll: BackendDescriptor { EpollSelector.descriptor }
    /// The io_uring backend (`LOOP_BACKEND=io_uring`; readiness through multishot poll).
    public static var ioUring: BackendDescriptor { UringSelector.descriptor }
    /// The libevent backend (`LOOP_BACKEND=libevent`).
    public static var libevent: BackendDescriptor { LibeventSelector.descriptor }
    /// The poll backend (`LOOP_BACKEND=poll`).
    public static var poll: BackendDescriptor { PollSelector.descriptor }

    /// Every built-in backend: epoll, io_uring, libevent, poll.
    public static var descriptors: [BackendDescriptor] { [epoll, ioUring, libevent, poll] }

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
