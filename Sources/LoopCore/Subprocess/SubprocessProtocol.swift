/// What a subprocess's protocol receives (asyncio's `SubprocessProtocol`). Every method
/// has a default that does nothing.
///
/// Order: ``BaseProtocol/connectionMade(_:)`` first (its transport is a
/// ``SubprocessTransport``); then, in any order, ``pipeDataReceived(fd:data:)`` and
/// ``pipeConnectionLost(fd:error:)`` per pipe, and ``processExited()`` exactly once;
/// ``BaseProtocol/connectionLost(_:)`` last, once the process has exited and every pipe
/// is closed. ``BaseProtocol/pauseWriting()`` and ``BaseProtocol/resumeWriting()`` follow
/// the stdin pipe's write buffer.
public protocol SubprocessProtocol: BaseProtocol {
    /// The child wrote `data` to its stdout (`fd` 1) or stderr (`fd` 2).
    func pipeDataReceived(fd: Int32, data: [UInt8]) throws
    /// The pipe of the child's `fd` closed: `nil` on end of file or close, otherwise the error.
    func pipeConnectionLost(fd: Int32, error: (any Error)?) throws
    /// The child exited; ``SubprocessTransport/returnCode`` is set.
    func processExited() throws
}

extension SubprocessProtocol {
    public func pipeDataReceived(fd: Int32, data: [UInt8]) throws {}
    public func pipeConnectionLost(fd: Int32, error: (any Error)?) throws {}
    public func processExited() throws {}
}

/// The protocol of one stdio pipe's transport: forwards its events to the subprocess
/// transport, naming the child's fd (asyncio's `WriteSubprocessPipeProto` and
/// `ReadSubprocessPipeProto`).
final class SubprocessPipeProtocol: StreamProtocol {
    let fd: Int32
    /// Strong: a pipe that outlives the child (a grandchild holds it) keeps the
    /// subprocess transport alive until it closes; the cycle ends when it does.
    var owner: SubprocessTransport?

    init(fd: Int32, owner: SubprocessTransport) {
        self.fd = fd
        self.owner = owner
    }

    func dataReceived(_ bytes: [UInt8]) throws {
        owner?.pipeDataReceived(fd: fd, data: bytes)
    }

    func connectionLost(_ error: (any Error)?) throws {
        let owner = self.owner
        self.owner = nil
        owner?.pipeConnectionLost(fd: fd, error: error)
    }

    func pauseWriting() throws { try owner?.protocol.pauseWriting() }

    func resumeWriting() throws { try owner?.protocol.resumeWriting() }
}
