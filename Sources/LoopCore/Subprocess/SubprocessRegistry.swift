/// The children a loop started that have not been reaped yet, and the watcher new
/// children get. A loop that closes kills and reaps whatever is still here.
final class SubprocessRegistry {
    private var live: [ObjectIdentifier: SubprocessTransport] = [:]
    /// The watcher new children use (``ChildWatcherKind/preferred`` unless set).
    var watcherKind: ChildWatcherKind = ChildWatcherKind.preferred

    var count: Int { live.count }

    func add(_ transport: SubprocessTransport) { live[ObjectIdentifier(transport)] = transport }

    func remove(_ transport: SubprocessTransport) { live[ObjectIdentifier(transport)] = nil }

    /// Kills and reaps every child still running (the loop is closing).
    func killAll() {
        let running = live.values.sorted { $0.pid < $1.pid }
        live = [:]
        for transport in running { transport.killAtLoopClose() }
    }
}
