import LoopCore

/// HELP — the helpers users expect on top of futures and tasks: sleep, gather,
/// waitFor / withTimeout, wait, shield, asCompleted, run and Runner, and
/// runCoroutineThreadsafe; each as asyncio 3.11 behaves (CONFORMANCE.md, group HELP).
enum HelperCases {
    /// Every HELP case: one file of cases per helper in Cases/Helpers, named after the
    /// LoopCore/Concurrency file that holds the helper, in this order.
    static let all: [ConformanceCase] =
        sleepCases + gatherCases + waitForCases + waitCases + shieldCases + asCompletedCases + runCases
        + runCoroutineThreadsafeCases

    // MARK: Shared by the helper cases

    /// An error a case throws on purpose, identified by its tag.
    struct HelperError: Error, Equatable {
        let tag: String
        init(_ tag: String) { self.tag = tag }
    }

    /// Counts loop iterations by rescheduling itself with callSoon once per iteration.
    final class IterationCounter {
        private(set) var count = 0
        private var stopped = false
        private let loop: any EventLoop

        init(loop: any EventLoop) throws {
            self.loop = loop
            try loop.callSoon { [self] in try tick() }
        }

        private func tick() throws {
            guard !stopped else { return }
            count += 1
            try loop.callSoon { [self] in try tick() }
        }

        func stop() { stopped = true }
    }

    /// Runs one more iteration so callbacks left by a finished scenario run before close.
    static func drain(_ loop: BaseEventLoop) throws {
        loop.stop()
        try loop.runForever()
    }

    /// A short text for an outcome: the value, "error <tag>", or "CancelledError".
    static func describe<T>(_ outcome: Result<T, any Error>) -> String {
        switch outcome {
        case .success(let value):
            return "\(value)"
        case .failure(let error as HelperError):
            return "error \(error.tag)"
        case .failure(is CancelledError):
            return "CancelledError"
        case .failure(let error):
            return "\(error)"
        }
    }
}
