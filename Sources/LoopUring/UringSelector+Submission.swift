import CLoopUring
import Glibc
@_spi(Backend) import LoopCore

// Queueing SQEs, submitting them, and turning completions into slot state.
extension UringSelector {
    /// Adds a fresh multishot poll for `fd` with the next generation.
    func addPoll(_ fd: Int32) throws {
        let index = Int(fd)
        let generation = UringUserData.next(slots[index].generation)
        slots[index].generation = generation
        slots[index].armed = true
        let data = UringUserData(.poll, generation: generation, fd: fd).rawValue
        let mask = Self.pollMask(slots[index].interest)
        try queue { cloop_uring_poll_add($0, fd, mask, data, true) }
    }

    func scheduleRecheck(_ fd: Int32) {
        guard !slots[Int(fd)].recheck else { return }
        slots[Int(fd)].recheck = true
        recheckList.append(fd)
    }

    /// Level emulation: every fd reported last time (or dropped by the kernel) is re-armed,
    /// which makes the kernel check its readiness now.
    func queueRechecks() throws {
        var index = 0
        // A flush inside `queue` may reap completions that schedule more re-checks.
        while index < recheckList.count {
            let fd = recheckList[index]
            index += 1
            slots[Int(fd)].recheck = false
            guard !slots[Int(fd)].interest.isEmpty else { continue }
            if slots[Int(fd)].armed {
                // A poll update re-arms without checking readiness again (measured on 6.18),
                // so the re-check is remove + a fresh add, which the kernel checks at once.
                let generation = slots[Int(fd)].generation
                let target = UringUserData(.poll, generation: generation, fd: fd).rawValue
                let own = UringUserData(.remove, generation: generation, fd: fd).rawValue
                try queue { cloop_uring_poll_remove($0, target, own, true) }
            }
            try addPoll(fd)
        }
        recheckList.removeAll(keepingCapacity: true)
        if !wakeArmed { try armWake() }
    }

    func armWake() throws {
        wake.drain()
        wakeGeneration = UringUserData.next(wakeGeneration)
        wakeArmed = true
        let data = UringUserData(.wake, generation: wakeGeneration, fd: wake.readFD).rawValue
        let fd = wake.readFD
        try queue { cloop_uring_poll_add($0, fd, UInt32(POLLIN), data, true) }
    }

    /// Queues one SQE; a full SQ is submitted first (never an SQE lost).
    func queue(_ prepare: (OpaquePointer) -> Int32) throws {
        guard let ring else { throw SystemError(errno: EBADF, call: "io_uring_get_sqe") }
        if prepare(ring) == 0 { return }
        // The SQ is full: submit it, reaping completions while the kernel says EBUSY/EAGAIN.
        for _ in 0..<1_000 {
            try submitQueued()
            if prepare(ring) == 0 { return }
        }
        throw SystemError(errno: EBUSY, call: "io_uring_get_sqe (the SQ stays full)")
    }

    /// Submits the queued SQEs without waiting. EBUSY/EAGAIN: reap (kept for the next
    /// wait) and retry; persistent refusal throws.
    func submitQueued() throws {
        guard let ring else { throw SystemError(errno: EBADF, call: "io_uring_enter") }
        var attempts = 0
        while cloop_uring_sq_ready(ring) > 0 {
            let result = submit(ring)
            if result >= 0 { continue }
            guard result == -EBUSY || result == -EAGAIN || result == -EINTR, attempts < 1_000 else {
                throw SystemError(errno: -result, call: "io_uring_enter")
            }
            attempts += 1
            try reapAll()
            if attempts > 10 { sched_yield() }
        }
    }

    func submit(_ ring: OpaquePointer) -> Int32 {
        if !injectedSubmitErrors.isEmpty { return injectedSubmitErrors.removeFirst() }
        return cloop_uring_submit(ring)
    }

    func submitAndWait(_ ring: OpaquePointer, _ nanoseconds: Int64) -> Int32 {
        if !injectedSubmitErrors.isEmpty { return injectedSubmitErrors.removeFirst() }
        return cloop_uring_submit_and_wait(ring, nanoseconds)
    }

    /// Reaps every completion in the CQ ring into slot state.
    func reapAll() throws {
        guard let ring else { return }
        while true {
            let count = Int(cloop_uring_reap(ring, completions, UInt32(completionCapacity)))
            for index in 0..<count { handle(completions[index]) }
            // NODROP keeps what did not fit in the CQ ring in the kernel: fetch it too.
            if count < completionCapacity && cloop_uring_flush_overflow(ring) == 0 { return }
        }
    }

    private func handle(_ cqe: cloop_uring_cqe) {
        let data = UringUserData(rawValue: cqe.user_data)
        let more = cqe.flags & UInt32(CLOOP_URING_CQE_F_MORE) != 0
        switch UringUserData.Tag(rawValue: data.tag) {
        case .wake:
            if data.generation == wakeGeneration && !more { wakeArmed = false }
        case .poll:
            guard let index = currentSlot(data) else { return }
            if !more {
                slots[index].armed = false
                scheduleRecheck(data.fd)
            }
            if cqe.res == -ECANCELED { return }
            // A failed poll (EBADF: the owner closed the fd first) is an error condition:
            // readable and writable, so the I/O sees it.
            let reported: IOEvents = cqe.res < 0
                ? [.readable, .writable] : Self.ioEvents(UInt32(bitPattern: cqe.res)).intersection(slots[index].interest)
            guard !reported.isEmpty else { return }
            if cqe.res < 0 { slots[index].failed = true }
            slots[index].pending.formUnion(reported)
            if !slots[index].touched {
                slots[index].touched = true
                touchedList.append(data.fd)
            }
        case .update:
            // Not submitted by this version (the shim keeps poll update); a failed update
            // with ENOENT would mean the kernel dropped the poll: re-add it.
            guard let index = currentSlot(data), cqe.res == -ENOENT else { return }
            slots[index].armed = false
            scheduleRecheck(data.fd)
        case .remove:
            // ENOENT: the poll had ended, nothing to undo. EALREADY: the kernel was
            // completing a wakeup of that poll and could not take it; it stays armed and
            // holds its file, so the remove is queued again.
            guard cqe.res == -EALREADY else { return }
            let target = UringUserData(.poll, generation: data.generation, fd: data.fd).rawValue
            retriedRemoves += 1
            try? queue { cloop_uring_poll_remove($0, target, cqe.user_data, true) }
        case .none:
            return
        }
    }

    /// The slot `data` is current for, or nil (counted) for a stale completion.
    private func currentSlot(_ data: UringUserData) -> Int? {
        let index = Int(data.fd)
        guard data.fd >= 0, index < slots.count, !slots[index].interest.isEmpty,
            slots[index].generation == data.generation
        else {
            staleCompletions += 1
            return nil
        }
        return index
    }

    static func pollMask(_ interest: IOEvents) -> UInt32 {
        var mask: UInt32 = 0
        if interest.contains(.readable) { mask |= UInt32(POLLIN) }
        if interest.contains(.writable) { mask |= UInt32(POLLOUT) }
        return mask
    }

    static func ioEvents(_ mask: UInt32) -> IOEvents {
        if mask & UInt32(POLLERR | POLLHUP) != 0 { return [.readable, .writable] }
        var events: IOEvents = []
        if mask & (UInt32(POLLIN) | UInt32(CLOOP_URING_POLLRDHUP)) != 0 { events.insert(.readable) }
        if mask & UInt32(POLLOUT) != 0 { events.insert(.writable) }
        return events
    }
}
