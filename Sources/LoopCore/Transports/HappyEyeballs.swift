import Glibc

/// Happy Eyeballs (RFC 8305) for `createConnection`: addresses interleaved by family,
/// and connection attempts started one after another, each after a delay or as soon as
/// the previous one fails, the first to connect winning.
extension BaseEventLoop {
    /// `infos` reordered so that address families alternate: the first
    /// `firstFamilyCount` addresses of the first family, then one of each family in turn
    /// (asyncio's `_interleave_addrinfos`).
    static func interleaved(_ infos: [AddressInfo], firstFamilyCount: Int) -> [AddressInfo] {
        var families: [AddressFamily] = []
        var byFamily: [AddressFamily: [AddressInfo]] = [:]
        for info in infos {
            if byFamily[info.family] == nil { families.append(info.family) }
            byFamily[info.family, default: []].append(info)
        }
        var lists = families.map { byFamily[$0] ?? [] }
        var reordered: [AddressInfo] = []
        if firstFamilyCount > 1, !lists.isEmpty {
            let head = min(firstFamilyCount - 1, lists[0].count)
            reordered += lists[0].prefix(head)
            lists[0].removeFirst(head)
        }
        for index in 0..<(lists.map(\.count).max() ?? 0) {
            for list in lists where index < list.count { reordered.append(list[index]) }
        }
        return reordered
    }

    /// Tries `infos` in order, starting the next attempt after `delay` or as soon as
    /// the running ones have all failed; returns the first connected socket (the other
    /// attempts are cancelled and their sockets closed) or `nil`, with the errors of the
    /// attempts that failed, in the order they failed.
    func connectStaggered(
        _ infos: [AddressInfo], delay: Duration, localInfos: [AddressInfo]?
    ) async throws -> (fd: Int32?, errors: [any Error]) {
        var errors: [any Error] = []
        var running: [LoopTask<Int32>] = []
        var next = 0
        var winner: Int32?
        do {
            while winner == nil && (next < infos.count || !running.isEmpty) {
                if next < infos.count {
                    let info = infos[next]
                    next += 1
                    running.append(try createTask { [self] in try await connectSocket(info, localInfos: localInfos) })
                }
                let (done, pending) = try await wait(
                    running, timeout: next < infos.count ? delay : nil, returnWhen: .firstCompleted)
                running = pending.compactMap { $0 as? LoopTask<Int32> }
                for attempt in done {
                    do {
                        let fd = try attempt.result()
                        if winner == nil { winner = fd } else { _ = Glibc.close(fd) }
                    } catch {
                        errors.append(error)
                    }
                }
            }
        } catch {
            await abandon(running)
            if let winner { _ = Glibc.close(winner) }
            throw error
        }
        await abandon(running)
        return (winner, errors)
    }

    /// Cancels connection attempts that lost the race; one that connected anyway has
    /// its socket closed.
    private func abandon(_ attempts: [LoopTask<Int32>]) async {
        for attempt in attempts { attempt.cancel() }
        for attempt in attempts {
            if let fd = try? await attempt.value { _ = Glibc.close(fd) }
        }
    }
}
