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
#include "cloop_spawn.h"

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

// Signals (cloop_signals.c). Install and restore are serialized by the caller.

/// NSIG: one more than the largest signal number.
int cloop_nsig(void);
/// 1 when signo is a signal a process may name (1..<NSIG, minus the C library's
/// reserved real-time signals), as Python's signal.valid_signals().
int cloop_signal_is_valid(int signo);
/// 1 when the calling thread is the process's main thread.
int cloop_is_main_thread(void);
/// Installs the async-signal-safe handler for signo (SA_RESTART): on delivery it sets
/// the signal's pending flag and writes one byte to wakeup_fd (non-blocking). The
/// disposition it replaces is saved the first time. Returns 0 or -1 with errno.
int cloop_signal_install(int signo, int wakeup_fd);
/// Stops writing to the wakeup fd of signo and restores the disposition saved by the
/// first install. Returns 0 or -1 with errno.
int cloop_signal_restore(int signo);
/// Returns 1 and clears the flag if signo was delivered since the last call, else 0.
int cloop_signal_take_pending(int signo);
/// The disposition of signo: 0 SIG_DFL, 1 SIG_IGN, 2 the loop's handler, 3 another
/// handler, -1 invalid signal.
int cloop_signal_disposition(int signo);
/// Sets signo to SIG_DFL (disposition 0) or SIG_IGN (1). Returns 0 or -1 with errno.
int cloop_signal_set_disposition(int signo, int disposition);

// Threads (cloop_threads.c).

/// Names the calling thread (truncated to 15 bytes on Linux), for debuggers and `top -H`.
void cloop_set_thread_name(const char *name);
/// The number of online CPUs (at least 1).
int cloop_online_cpu_count(void);

// CPU affinity (cloop_affinity.c).

/// CPU_SETSIZE: CPUs are numbered below it.
int cloop_cpu_set_size(void);
/// 1 when the calling process may run on `cpu`, 0 when not (or out of range), -1 with errno on failure.
int cloop_cpu_allowed(int cpu);
/// Pins the thread (a pthread_t) to `cpu`; returns 0 or an errno value.
int cloop_pin_thread(unsigned long thread, int cpu);

// SIGPIPE suppression for code that writes to sockets without MSG_NOSIGNAL (cloop_sigpipe.c).

/// What cloop_sigpipe_block saved.
typedef struct {
    sigset_t saved_mask;
    int blocked;
    int was_pending;
} cloop_sigpipe_guard;
/// Blocks SIGPIPE on the calling thread (if it is not blocked already), remembering
/// whether one was pending before.
void cloop_sigpipe_block(cloop_sigpipe_guard *guard);
/// Discards a SIGPIPE raised since cloop_sigpipe_block (one that was pending before is
/// kept), then restores the thread's signal mask. Leaves errno as it was.
void cloop_sigpipe_unblock(cloop_sigpipe_guard *guard);

#endif
