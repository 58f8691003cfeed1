#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension BaseEventLoop {
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
