#define _GNU_SOURCE
#include "cloop_uring.h"
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <liburing.h>

_Static_assert(CLOOP_URING_CQE_F_MORE == IORING_CQE_F_MORE, "IORING_CQE_F_MORE");
_Static_assert(CLOOP_URING_POLLRDHUP == POLLRDHUP, "POLLRDHUP");

struct cloop_uring {
    struct io_uring ring;
};

cloop_uring *cloop_uring_create(unsigned entries, unsigned cq_entries, int *error) {
    cloop_uring *r = calloc(1, sizeof(*r));
    if (!r) {
        *error = -ENOMEM;
        return NULL;
    }
    struct io_uring_params params;
    memset(&params, 0, sizeof(params));
    if (cq_entries) {
        params.flags |= IORING_SETUP_CQSIZE;
        params.cq_entries = cq_entries;
    }
    int ret = io_uring_queue_init_params(entries, &r->ring, &params);
    if (ret < 0) {
        free(r);
        *error = ret;
        return NULL;
    }
    *error = 0;
    return r;
}

void cloop_uring_destroy(cloop_uring *r) {
    if (!r) return;
    io_uring_queue_exit(&r->ring);
    free(r);
}

int cloop_uring_fd(const cloop_uring *r) { return r->ring.ring_fd; }
unsigned cloop_uring_features(const cloop_uring *r) { return r->ring.features; }
unsigned cloop_uring_sq_entries(const cloop_uring *r) { return r->ring.sq.ring_entries; }

int cloop_uring_supports(cloop_uring *r, int opcode) {
    struct io_uring_probe *probe = io_uring_get_probe_ring(&r->ring);
    if (!probe) return -ENOMEM;
    int supported = io_uring_opcode_supported(probe, opcode);
    io_uring_free_probe(probe);
    return supported;
}

int cloop_uring_has_needed_features(cloop_uring *r) {
    unsigned needed = IORING_FEAT_EXT_ARG | IORING_FEAT_NODROP;
    if ((r->ring.features & needed) != needed) return 0;
    return cloop_uring_supports(r, IORING_OP_POLL_REMOVE) == 1;
}

int cloop_uring_poll_add(cloop_uring *r, int fd, unsigned mask, uint64_t user_data, bool multishot) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    if (multishot) {
        io_uring_prep_poll_multishot(sqe, fd, mask);
    } else {
        io_uring_prep_poll_add(sqe, fd, mask);
    }
    io_uring_sqe_set_data64(sqe, user_data);
    return 0;
}

int cloop_uring_poll_update(cloop_uring *r, uint64_t old_data, uint64_t new_data, unsigned mask,
                            uint64_t own_data, bool skip_success) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    unsigned flags = IORING_POLL_UPDATE_EVENTS | IORING_POLL_ADD_MULTI;
    if (new_data != old_data) flags |= IORING_POLL_UPDATE_USER_DATA;
    io_uring_prep_poll_update(sqe, old_data, new_data, mask, flags);
    io_uring_sqe_set_data64(sqe, own_data);
    if (skip_success) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    return 0;
}

int cloop_uring_poll_remove(cloop_uring *r, uint64_t target, uint64_t own_data, bool skip_success) {
    struct io_uring_sqe *sqe = io_uring_get_sqe(&r->ring);
    if (!sqe) return -EBUSY;
    io_uring_prep_poll_remove(sqe, target);
    io_uring_sqe_set_data64(sqe, own_data);
    if (skip_success) sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
    return 0;
}

unsigned cloop_uring_sq_ready(const cloop_uring *r) { return io_uring_sq_ready(&r->ring); }

int cloop_uring_submit(cloop_uring *r) { return io_uring_submit(&r->ring); }

int cloop_uring_submit_and_wait(cloop_uring *r, int64_t timeout_ns) {
    if (timeout_ns == 0) return io_uring_submit_and_get_events(&r->ring);
    if (timeout_ns < 0) return io_uring_submit_and_wait(&r->ring, 1);
    struct __kernel_timespec ts = {
        .tv_sec = timeout_ns / 1000000000LL,
        .tv_nsec = timeout_ns % 1000000000LL,
    };
    struct io_uring_cqe *cqe = NULL;
    return io_uring_submit_and_wait_timeout(&r->ring, &cqe, 1, &ts, NULL);
}

unsigned cloop_uring_reap(cloop_uring *r, cloop_uring_cqe *out, unsigned max) {
    unsigned head;
    unsigned count = 0;
    struct io_uring_cqe *cqe;
    io_uring_for_each_cqe(&r->ring, head, cqe) {
        if (count == max) break;
        out[count].user_data = cqe->user_data;
        out[count].res = cqe->res;
        out[count].flags = cqe->flags;
        count++;
    }
    if (count) io_uring_cq_advance(&r->ring, count);
    return count;
}

unsigned cloop_uring_cq_ready(const cloop_uring *r) { return io_uring_cq_ready(&r->ring); }

int cloop_uring_probe_setup(void) {
    struct io_uring ring;
    int ret = io_uring_queue_init(2, &ring, 0);
    if (ret < 0) return ret;
    io_uring_queue_exit(&ring);
    return 0;
}

int cloop_uring_flush_overflow(cloop_uring *r) {
    if (!(IO_URING_READ_ONCE(*r->ring.sq.kflags) & IORING_SQ_CQ_OVERFLOW)) return 0;
    io_uring_get_events(&r->ring);
    return 1;
}
