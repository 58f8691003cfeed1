import Glibc

extension BaseEventLoop {
    /// The first step of every transport (asyncio's transport constructors): schedules
    /// the protocol's `connectionMade`, then `startReading` (if any), then the waiter's
    /// completion, each as its own callback in that order, and marks `fd` as owned by
    /// the transport (named by `description`) so the public fd methods refuse it.
    func startTransport(
        _ transport: any BaseTransport, fd: Int32, protocol proto: any BaseProtocol, description: String,
        waiter: Future<Void>?, startReading: (() throws -> Void)?
    ) throws {
        _ = try callSoon({ try proto.connectionMade(transport) }, from: nil)
        if let startReading { _ = try callSoon(startReading, from: nil) }
        if let waiter {
            _ = try callSoon({ if !waiter.isDone { try waiter.setResult(()) } }, from: nil)
        }
        setTransportOwner(fd, description)
    }

    /// How every connect call makes its transport: the protocol from `factory`, then the
    /// transport from `make` (given the protocol and a waiter the transport completes
    /// once `connectionMade` ran), then the wait for that waiter. A failure before the
    /// transport exists closes `fd` when `closeOnFailure` (the loop made it); a failed
    /// or cancelled wait hands the transport to `discard`, which closes it and its fd.
    func establishTransport<P, T>(
        fd: Int32, closeOnFailure: Bool, _ factory: () throws -> P,
        make: (P, Future<Void>) throws -> T, discard: (T) -> Void
    ) async throws -> (transport: T, protocol: P) {
        let made: P
        let transport: T
        let waiter = createFuture(of: Void.self, from: nil)
        do {
            made = try factory()
            transport = try make(made, waiter)
        } catch {
            if closeOnFailure { _ = Glibc.close(fd) }
            throw error
        }
        do {
            try await waiter.value
        } catch {
            discard(transport)
            throw error
        }
        return (transport, made)
    }

    /// The last step of every transport (asyncio's `_call_connection_lost`): tells the
    /// protocol the connection is lost, then releases the transport's fd — its
    /// ownership mark, its reader and writer — and closes it. A `connectionLost` that
    /// throws goes to the exception handler, naming the transport type.
    func tearDownTransport(
        _ transport: AnyObject, kind: String, fd: Int32, protocol proto: any BaseProtocol, error: (any Error)?
    ) {
        defer {
            setTransportOwner(fd, nil)
            _ = try? transportRemoveReader(fd)
            _ = try? transportRemoveWriter(fd)
            _ = Glibc.close(fd)
        }
        do {
            try proto.connectionLost(error)
        } catch {
            callExceptionHandler(ExceptionContext(
                message: "Exception in callback \(kind)._call_connection_lost", error: error,
                transport: transport, protocol: proto))
        }
    }
}
