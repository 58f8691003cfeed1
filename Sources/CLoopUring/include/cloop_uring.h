#ifndef CLOOP_URING_H
#define CLOOP_URING_H
#include <stdbool.h>
#include <stdint.h>

// A thin wrapper around one liburing ring, so Swift never sees struct io_uring or
// liburing's static inline helpers. Every function returning int returns 0 (or a
// count) on success and a negative errno on failure, as liburing does.

typedef struct cloop_uring cloop_uring;

/// liburing's constants LoopUring needs (checked against liburing in cloop_uring.c).
enum {
    CLOOP_URING_CQE_F_MORE = 1u << 1,
    CLOOP_URING_POLLRDHUP = 0x2000,
};

/// Whether the ring has what LoopUring needs: IORING_FEAT_EXT_ARG, IORING_FEAT_NODROP and
/// IORING_OP_POLL_REMOVE (poll update). 1 yes, 0 no.
int cloop_uring_has_needed_features(cloop_uring *ring);

/// One completion, copied out of the CQ ring.
typedef struct {
    uint64_t user_data;
    int32_t res;
    uint32_t flags;
} cloop_uring_cqe;

/// Opens a ring with `entries` SQ entries and `cq_entries` CQ entries (0: the kernel's
/// default, twice the SQ). Returns NULL and stores a negative errno in *error.
cloop_uring *cloop_uring_create(unsigned entries, unsigned cq_entries, int *error);
void cloop_uring_destroy(cloop_uring *ring);
int cloop_uring_fd(const cloop_uring *ring);
unsigned cloop_uring_features(const cloop_uring *ring);
unsigned cloop_uring_sq_entries(const cloop_uring *ring);
/// Whether the kernel supports `opcode` (io_uring_get_probe); -errno when it cannot say.
int cloop_uring_supports(cloop_uring *ring, int opcode);

/// Queue one SQE. -EBUSY when the SQ ring is full: submit and try again.
int cloop_uring_poll_add(cloop_uring *ring, int fd, unsigned mask, uint64_t user_data, bool multishot);
/// IORING_OP_POLL_REMOVE with IORING_POLL_UPDATE_EVENTS (| UPDATE_USER_DATA when the
/// data changes) on the multishot poll `old_data`: re-arms it with `mask`, checking
/// readiness at once. `skip_success`: no CQE when it succeeds.
int cloop_uring_poll_update(cloop_uring *ring, uint64_t old_data, uint64_t new_data, unsigned mask,
                            uint64_t own_data, bool skip_success);
/// IORING_OP_POLL_REMOVE of the poll `target`.
int cloop_uring_poll_remove(cloop_uring *ring, uint64_t target, uint64_t own_data, bool skip_success);

/// SQEs queued and not yet submitted.
unsigned cloop_uring_sq_ready(const cloop_uring *ring);
/// Submits what is queued, without waiting.
int cloop_uring_submit(cloop_uring *ring);
/// Submits what is queued and waits for at least one completion: `timeout_ns` < 0 without
/// limit, 0 not at all (but task work runs, so ready polls post their CQEs), > 0 at most
/// that long (-ETIME when it passes). One io_uring_enter in each case.
int cloop_uring_submit_and_wait(cloop_uring *ring, int64_t timeout_ns);
/// Copies up to `max` completions into `out`, marks them seen, returns how many.
unsigned cloop_uring_reap(cloop_uring *ring, cloop_uring_cqe *out, unsigned max);
/// When the kernel holds overflowed completions (IORING_SQ_CQ_OVERFLOW), asks it to move
/// them into the CQ ring (io_uring_get_events) and returns 1; else 0.
int cloop_uring_flush_overflow(cloop_uring *ring);
/// Completions waiting in the CQ ring.
unsigned cloop_uring_cq_ready(const cloop_uring *ring);

/// The io_uring_setup(2) probe on its own: 0 when a 2-entry ring opens (and closes), else
/// the negative errno (ENOSYS: no io_uring; EPERM: io_uring_disabled or seccomp).
int cloop_uring_probe_setup(void);
#endif
