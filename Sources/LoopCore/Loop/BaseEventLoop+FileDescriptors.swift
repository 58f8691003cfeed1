import CLoopShims

/// The callbacks watching one file descriptor and what the backend was told.
struct FileDescriptorWatch {
    var reader: Handle?
    var writer: Handle?
    var registered: IOEvents = []
    /// A description of the transport that owns the fd (`nil` when none): the public
    /// add/remove methods refuse such an fd (asyncio's `_ensure_fd_no_transport`).
    var transportOwner: String?

    var wanted: IOEvents {
        var events: IOEvents = []
        if reader != nil { events.insert(.readable) }
        if writer != nil { events.insert(.writable) }
        return events
    }
}

// Watching file descriptors (the reference's "Watching file descriptors").
extension BaseEventLoop {
    public func addReader(_ fd: Int32, _ body: @escaping () throws -> Void) throws {
        try checkNoTransport(fd, "addReader")
        try addWatcher(fd, .readable, body, call: "addReader")
    }

    public func addWriter(_ fd: Int32, _ body: @escaping () throws -> Void) throws {
        try checkNoTransport(fd, "addWriter")
        try addWatcher(fd, .writable, body, call: "addWriter")
    }

    @discardableResult
    public func removeReader(_ fd: Int32) throws -> Bool {
        try checkNoTransport(fd, "removeReader")
        return try removeWatcher(fd, .readable, call: "removeReader")
    }

    @discardableResult
    public func removeWriter(_ fd: Int32) throws -> Bool {
        try checkNoTransport(fd, "removeWriter")
        return try removeWatcher(fd, .writable, call: "removeWriter")
    }

    /// Marks `fd` as owned by the transport described by `owner` (or, with `nil`, no
    /// longer owned). Transports watch their fd with the `transport…` methods below.
    func setTransportOwner(_ fd: Int32, _ owner: String?) {
        guard fd >= 0 else { return }
        if watches.count <= Int(fd) {
            guard owner != nil else { return }
            watches.append(contentsOf: repeatElement(FileDescriptorWatch(), count: Int(fd) + 1 - watches.count))
        }
        watches[Int(fd)].transportOwner = owner
    }

    func transportAddReader(_ fd: Int32, _ body: @escaping () throws -> Void) throws {
        try addWatcher(fd, .readable, body, call: "addReader")
    }

    func transportAddWriter(_ fd: Int32, _ body: @escaping () throws -> Void) throws {
        try addWatcher(fd, .writable, body, call: "addWriter")
    }

    @discardableResult
    func transportRemoveReader(_ fd: Int32) throws -> Bool {
        try removeWatcher(fd, .readable, call: "removeReader")
    }

    @discardableResult
    func transportRemoveWriter(_ fd: Int32) throws -> Bool {
        try removeWatcher(fd, .writable, call: "removeWriter")
    }

    private func checkNoTransport(_ fd: Int32, _ call: String) throws {
        guard fd >= 0, Int(fd) < watches.count, let owner = watches[Int(fd)].transportOwner else { return }
        throw LoopError(.fdInUseByTransport, "\(call): File descriptor \(fd) is used by transport \(owner); use the transport instead")
    }

    /// How many file descriptors the loop watches now.
    public var watchedDescriptorCount: Int { watchedCount }

    private func addWatcher(_ fd: Int32, _ kind: IOEvents, _ body: @escaping () throws -> Void, call: String) throws {
        try checkOpen(call)
        if debugEnabled { try checkThread(call) }
        guard fd >= 0 else {
            throw LoopError(.invalidArgument, "\(call): Invalid file descriptor: \(fd); pass an open descriptor")
        }
        guard cloop_fd_is_open(fd) != 0 else {
            throw LoopError(.invalidArgument, "\(call): file descriptor \(fd) is not open; open it before watching it")
        }
        if watches.count <= Int(fd) {
            watches.append(contentsOf: repeatElement(FileDescriptorWatch(), count: Int(fd) + 1 - watches.count))
        }
        let handle = Handle(callback: body, sourceLocation: nil)
        let previous: Handle?
        if kind == .readable {
            previous = watches[Int(fd)].reader
            watches[Int(fd)].reader = handle
        } else {
            previous = watches[Int(fd)].writer
            watches[Int(fd)].writer = handle
        }
        previous?.cancel()
        do {
            try syncRegistration(fd, call: call)
        } catch {
            if kind == .readable { watches[Int(fd)].reader = previous } else { watches[Int(fd)].writer = previous }
            throw error
        }
    }

    private func removeWatcher(_ fd: Int32, _ kind: IOEvents, call: String) throws -> Bool {
        if closed { return false }
        if debugEnabled { try checkThread(call) }
        guard fd >= 0 else {
            throw LoopError(.invalidArgument, "\(call): Invalid file descriptor: \(fd); pass the descriptor that was watched")
        }
        guard Int(fd) < watches.count else { return false }
        let removed: Handle?
        if kind == .readable {
            removed = watches[Int(fd)].reader
            watches[Int(fd)].reader = nil
        } else {
            removed = watches[Int(fd)].writer
            watches[Int(fd)].writer = nil
        }
        guard let removed else { return false }
        removed.cancel()
        try syncRegistration(fd, call: call)
        return true
    }

    /// Tells the backend what is now wanted for `fd`.
    private func syncRegistration(_ fd: Int32, call: String) throws {
        let index = Int(fd)
        let wanted = watches[index].wanted
        let registered = watches[index].registered
        guard wanted != registered else { return }
        let hook = registered.isEmpty ? "register" : wanted.isEmpty ? "unregister" : "modify"
        do {
            switch hook {
            case "register": try backend.register(fd: fd, interest: wanted)
            case "unregister": try backend.unregister(fd: fd)
            default: try backend.modify(fd: fd, interest: wanted)
            }
        } catch {
            if wanted.isEmpty {
                // The loop no longer watches the fd whatever the backend says.
                watches[index].registered = []
                watchedCount -= 1
            }
            throw LoopError(.backendFailure, "\(call): backend '\(backend.name)' hook \(hook)(fd: \(fd)) failed: \(error)")
        }
        if registered.isEmpty { watchedCount += 1 } else if wanted.isEmpty { watchedCount -= 1 }
        watches[index].registered = wanted
    }
}
