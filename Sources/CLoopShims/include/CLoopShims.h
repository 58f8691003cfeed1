#ifndef C_LOOP_SHIMS_H
#define C_LOOP_SHIMS_H

// System headers that Swift's Glibc module does not export (epoll, eventfd),
// plus the few helpers that need C: a thread-local slot for the running loop.

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <fcntl.h>
#include <unistd.h>
#include <errno.h>
#include <time.h>

/// The loop running on the calling thread, or NULL.
void *cloop_running_loop(void);
/// Records the loop running on the calling thread (NULL clears it).
void cloop_set_running_loop(void *loop);
/// Monotonic clock reading in nanoseconds.
long long cloop_monotonic_ns(void);
/// A stable, cheap identifier of the calling thread.
unsigned long cloop_thread_id(void);
/// fcntl(fd, F_GETFD): >= 0 when fd is an open descriptor.
int cloop_fd_is_open(int fd);
/// Sets or clears O_NONBLOCK; returns 0 or -1 with errno.
int cloop_set_nonblocking(int fd, int on);

/// pipe2(2): a pipe whose two ends get `flags` (O_NONBLOCK, O_CLOEXEC) atomically.
/// Returns 0 or -1 with errno. (pipe2 needs _GNU_SOURCE, which Swift's Glibc lacks.)
int cloop_pipe2(int fds[2], int flags);

#endif
