import Glibc
import LoopConformance
import Loops
import Synchronization
import XCTest

/// Proves that each hook-rule case (HOOK-X18..X23) can fail: a throwaway backend that
/// breaks exactly that rule — a ``ForwardingBackend`` over a real built-in backend — fails
/// the case, with a reason naming what went wrong and a description carrying the case's
/// title, while the honest backend it wraps passes the same case.
///
/// XCTest, not Swift Testing: XCTest methods run one at a time, so these cases never
/// overlap the other conformance runs (cases count the process's fds).
final class BrokenBackendTests: XCTestCase {
    /// HOOK-X18: a backend that throws ENOENT for an unregister of an fd it does not watch.
    func testStrictUnregisterFailsHOOKX18() throws {
        try expectFailure("HOOK-X18", over: "epoll", reasonContains: "must be a silent no-op") {
            StrictUnregisterBackend(wrapping: $0)
        }
    }

    /// HOOK-X19: a backend whose hooks throw `SystemError(EBADF)` after close instead of
    /// `LoopError.closed` (what epoll and poll did before the rule was written).
    func testEBADFAfterCloseFailsHOOKX19() throws {
        try expectFailure("HOOK-X19", over: "poll", reasonContains: "expected LoopError.closed") {
            EBADFAfterCloseBackend(wrapping: $0)
        }
    }

    /// HOOK-X20: a backend that fails its wait when a watched fd was closed (libuv aborts).
    func testFailingOnClosedFDFailsHOOKX20() throws {
        try expectFailure("HOOK-X20", over: "epoll", reasonContains: "must return normally") {
            ClosedFDCheckingBackend(wrapping: $0)
        }
    }

    /// HOOK-X21: a backend that rounds a timeout up to whole seconds (blocks past it).
    func testLateWaitFailsHOOKX21() throws {
        try expectFailure("HOOK-X21", over: "epoll", reasonContains: "never late") {
            SecondsTimeoutBackend(wrapping: $0)
        }
    }

    /// HOOK-X22: a backend that reports only plain readiness and drops hang-ups and errors.
    func testDroppedHangupsFailHOOKX22() throws {
        try expectFailure("HOOK-X22", over: "poll", reasonContains: "a hang-up or error must include every watched event") {
            HangupDroppingBackend(wrapping: $0)
        }
    }

    /// HOOK-X23: epoll declaring `regularFiles`, which it refuses with EPERM. Honest epoll
    /// skips the case; poll, which declares it truly, passes it.
    func testUndeservedRegularFilesFailsHOOKX23() throws {
        try expectFailure(
            "HOOK-X23", over: "epoll", honestStatus: .skip, capabilities: BackendCapabilities.standard.union(.regularFiles),
            reasonContains: "declares regularFiles"
        ) { IdentityBackend(wrapping: $0) }
        let poll = try XCTUnwrap(BuiltinBackends.descriptors.first { $0.name == "poll" })
        let testCase = try XCTUnwrap(ConformanceSuite.cases.first { $0.id == "HOOK-X23" })
        XCTAssertEqual(ConformanceSuite.run(testCase, backend: poll).status, .pass)
    }

    /// Runs case `id` on `base` (must end with `honestStatus`) and on `base` wrapped by `wrap` under the name
    /// "broken" with `capabilities` (must fail, the reason containing `reasonContains`).
    private func expectFailure(
        _ id: String, over base: String, honestStatus: CaseResult.Status = .pass, capabilities: BackendCapabilities? = nil, reasonContains expected: String,
        file: StaticString = #filePath, line: UInt = #line,
        _ wrap: @escaping @Sendable (any SelectorBackend) -> IdentityBackend
    ) throws {
        let testCase = try XCTUnwrap(ConformanceSuite.cases.first { $0.id == id }, "no case \(id)", file: file, line: line)
        let honest = try XCTUnwrap(BuiltinBackends.descriptors.first { $0.name == base }, file: file, line: line)
        let broken = BrokenBackendIdentity.descriptor(over: honest, capabilities: capabilities ?? honest.capabilities, wrap)
        let good = ConformanceSuite.run(testCase, backend: honest)
        XCTAssertEqual(good.status, honestStatus, "the honest backend: \(good)", file: file, line: line)
        let bad = ConformanceSuite.run(testCase, backend: broken)
        XCTAssertEqual(bad.status, .fail, "the broken backend must fail \(id): \(bad)", file: file, line: line)
        XCTAssertTrue(bad.reason.contains(expected), "the reason must say \"\(expected)\": \(bad.reason)", file: file, line: line)
        XCTAssertTrue(bad.description.contains(testCase.title), "the failure must carry the title: \(bad)", file: file, line: line)
    }
}

/// The identity the broken backends share: "broken", with the given capabilities.
private enum BrokenBackendIdentity {
    static func descriptor(
        over base: BackendDescriptor, capabilities: BackendCapabilities,
        _ wrap: @escaping @Sendable (any SelectorBackend) -> IdentityBackend
    ) -> BackendDescriptor {
        BackendDescriptor(
            name: "broken", summary: "a deliberately broken wrapper of \(base.name)", capabilities: capabilities,
            make: {
                let backend = wrap(try base.make())
                backend.identity.withLock { $0 = descriptor(over: base, capabilities: capabilities, wrap) }
                return backend
            })
    }
}

/// A ForwardingBackend whose identity ("broken", lying capabilities) the descriptor above sets.
private class IdentityBackend: ForwardingBackend, @unchecked Sendable {
    let identity = Mutex<BackendDescriptor?>(nil)
    override var descriptor: BackendDescriptor { identity.withLock { $0 } ?? inner.descriptor }
}

/// Remembers which fds are registered (loop thread only, like the hooks).
private class TrackingBackend: IdentityBackend, @unchecked Sendable {
    let registered = Mutex<Set<Int32>>([])
    override func register(fd: Int32, interest: IOEvents) throws {
        try super.register(fd: fd, interest: interest)
        _ = registered.withLock { $0.insert(fd) }
    }
    override func unregister(fd: Int32) throws {
        try super.unregister(fd: fd)
        _ = registered.withLock { $0.remove(fd) }
    }
}

private final class StrictUnregisterBackend: TrackingBackend, @unchecked Sendable {
    override func unregister(fd: Int32) throws {
        guard registered.withLock({ $0.contains(fd) }) else { throw SystemError(errno: ENOENT, call: "epoll_ctl(DEL)") }
        try super.unregister(fd: fd)
    }
}

private final class EBADFAfterCloseBackend: IdentityBackend, @unchecked Sendable {
    private let closed = Atomic<Bool>(false)
    override func close() {
        closed.store(true, ordering: .relaxed)
        super.close()
    }
    private func check(_ call: String) throws {
        if closed.load(ordering: .relaxed) { throw SystemError(errno: EBADF, call: call) }
    }
    override func register(fd: Int32, interest: IOEvents) throws {
        try check("register")
        try super.register(fd: fd, interest: interest)
    }
    override func modify(fd: Int32, interest: IOEvents) throws {
        try check("modify")
        try super.modify(fd: fd, interest: interest)
    }
    override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        try check("wait")
        try super.wait(timeout: timeout, into: &ready)
    }
}

private final class ClosedFDCheckingBackend: TrackingBackend, @unchecked Sendable {
    override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        for fd in registered.withLock({ $0 }) where fcntl(fd, F_GETFD) < 0 {
            throw LoopError(.backendFailure, "uv__io_poll: watched fd \(fd) is closed (libuv would abort here)")
        }
        try super.wait(timeout: timeout, into: &ready)
    }
}

private final class SecondsTimeoutBackend: IdentityBackend, @unchecked Sendable {
    override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        let rounded = timeout.map { $0 > .zero ? Duration.seconds($0.components.seconds + 1) : $0 }
        try super.wait(timeout: rounded, into: &ready)
    }
}

private final class HangupDroppingBackend: IdentityBackend, @unchecked Sendable {
    override func wait(timeout: Duration?, into ready: inout ReadinessBuffer) throws {
        var all = ReadinessBuffer()
        try super.wait(timeout: timeout, into: &all)
        for index in 0..<all.count {
            let event = all[index]
            var probe = pollfd(fd: event.fd, events: Int16(truncatingIfNeeded: POLLIN | POLLOUT), revents: 0)
            _ = poll(&probe, 1, 0)
            let failure = Int16(truncatingIfNeeded: POLLERR | POLLHUP | POLLNVAL)
            if probe.revents & failure == 0 { ready.append(fd: event.fd, events: event.events) }
        }
    }
}
