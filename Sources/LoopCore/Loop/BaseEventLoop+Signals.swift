import Glibc
import CLoopShims

// UNIX signals (the reference's "Unix signals"); the delivery machinery is in Signals/.
extension BaseEventLoop {
    public func addSignalHandler(
        _ signal: Int32, _ body: @escaping () throws -> Void, from location: SourceLocation?
    ) throws {
        try Self.checkSignal(signal, call: "addSignalHandler")
        if signal == SIGKILL || signal == SIGSTOP {
            throw LoopError(.invalidArgument, "addSignalHandler: sig \(signal) cannot be caught (SIGKILL and SIGSTOP cannot be handled)")
        }
        try checkOpen("addSignalHandler")
        if debugEnabled { try checkThread("addSignalHandler") }
        guard cloop_is_main_thread() != 0 else {
            throw LoopError(
                .signalInstallFailed,
                "addSignalHandler: signal handlers can only be installed from the main thread of the process; call it from the main thread"
            )
        }
        try openWakeupPipeIfNeeded()
        let me = ObjectIdentifier(self)
        let wakeupWrite = signalState.wakeupWrite
        let failure: Int32 = SignalRegistry.owners.withLock { owners in
            if cloop_signal_install(signal, wakeupWrite) != 0 { return errno }
            owners[signal] = me
            return 0
        }
        if failure != 0 {
            if signalState.handlers.isEmpty { closeWakeupPipe() }
            if failure == EINVAL {
                throw LoopError(.invalidArgument, "addSignalHandler: sig \(signal) cannot be caught")
            }
            throw LoopError(
                .signalInstallFailed,
                "addSignalHandler: sigaction(\(signal)) failed: \(SystemError.describe(failure)) (errno \(failure))")
        }
        let handle = Handle(callback: body, sourceLocation: location)
        signalState.handlers.updateValue(handle, forKey: signal)?.cancel()
    }

    @discardableResult
    public func removeSignalHandler(_ signal: Int32) throws -> Bool {
        try Self.checkSignal(signal, call: "removeSignalHandler")
        if debugEnabled { try checkThread("removeSignalHandler") }
        guard let handle = signalState.handlers.removeValue(forKey: signal) else { return false }
        handle.cancel()
        let failure = releaseSignal(signal)
        if signalState.handlers.isEmpty { closeWakeupPipe() }
        if failure != 0 {
            throw LoopError(
                .signalInstallFailed,
                "removeSignalHandler: restoring the disposition of signal \(signal) failed: \(SystemError.describe(failure)) (errno \(failure))")
        }
        return true
    }

    /// Removes every handler this loop installed, restoring the dispositions they
    /// replaced (at close and release).
    func removeAllSignalHandlers() {
        guard !signalState.handlers.isEmpty || signalState.wakeupRead >= 0 else { return }
        for (signal, handle) in signalState.handlers.sorted(by: { $0.key < $1.key }) {
            handle.cancel()
            let failure = releaseSignal(signal)
            if failure != 0 {
                logger.warning("close(): restoring the disposition of signal \(signal) failed: \(SystemError.describe(failure))")
            }
        }
        signalState.handlers.removeAll()
        closeWakeupPipe()
    }

    static func checkSignal(_ signal: Int32, call: String) throws {
        guard cloop_signal_is_valid(signal) != 0 else {
            throw LoopError(
                .invalidArgument,
                "\(call): invalid signal number \(signal); use a signal between 1 and \(cloop_nsig() - 1) that the C library does not reserve"
            )
        }
    }

    /// Gives up `signal` if this loop still owns it: restores the saved disposition and
    /// drops a delivery not yet dispatched. Returns 0 or the errno of sigaction.
    private func releaseSignal(_ signal: Int32) -> Int32 {
        let me = ObjectIdentifier(self)
        return SignalRegistry.owners.withLock { owners in
            guard owners[signal] == me else { return 0 }
            owners[signal] = nil
            let failure: Int32 = cloop_signal_restore(signal) == 0 ? 0 : errno
            _ = cloop_signal_take_pending(signal)
            return failure
        }
    }

    private func openWakeupPipeIfNeeded() throws {
        guard signalState.wakeupRead < 0 else { return }
        let fds: (read: Int32, write: Int32)
        do {
            fds = try Posix.makeNonBlockingPipe()
        } catch let failure as SystemError {
            throw LoopError(
                .signalInstallFailed,
                "addSignalHandler: could not create the signal wakeup pipe: \(SystemError.describe(failure.errno)) (errno \(failure.errno))")
        }
        do {
            try addReader(fds.read) { [unowned self] in self.dispatchPendingSignals() }
        } catch {
            Posix.close(fds.read)
            Posix.close(fds.write)
            throw error
        }
        signalState.wakeupRead = fds.read
        signalState.wakeupWrite = fds.write
    }

    private func closeWakeupPipe() {
        guard signalState.wakeupRead >= 0 else { return }
        _ = try? removeReader(signalState.wakeupRead)
        Posix.close(signalState.wakeupRead)
        Posix.close(signalState.wakeupWrite)
        signalState.wakeupRead = -1
        signalState.wakeupWrite = -1
    }

    /// The wakeup pipe's reader: drains it and queues the handle of every signal this
    /// loop owns that was delivered since the last time.
    private func dispatchPendingSignals() {
        let fd = signalState.wakeupRead
        guard fd >= 0 else { return }
        withUnsafeTemporaryAllocation(byteCount: 256, alignment: 1) { buffer in
            while Posix.read(fd, into: buffer) > 0 {}
        }
        let me = ObjectIdentifier(self)
        for signal in signalState.handlers.keys.sorted() {
            let owned = SignalRegistry.owners.withLock { $0[signal] == me }
            guard owned, cloop_signal_take_pending(signal) != 0,
                let handle = signalState.handlers[signal], !handle.isCancelledFlag
            else { continue }
            ready.append(.handle(handle))
        }
    }
}
