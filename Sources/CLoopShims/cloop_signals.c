// Signal delivery for the loop (asyncio's set_wakeup_fd design). The handler is
// async-signal-safe: it sets the signal's pending flag and writes one byte to the
// wakeup pipe of the loop that owns the signal; the loop's reader on that pipe
// runs the Swift callbacks later, on the loop thread. Kept apart from CLoopShims.c:
// gettid needs _GNU_SOURCE before the first include.
#define _GNU_SOURCE
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>
#include <errno.h>
#include <string.h>
#if defined(__linux__)
#include <sys/syscall.h>
#else
#include <pthread.h>
#endif
#include "CLoopShims.h"

#ifndef NSIG
#define NSIG 65
#endif

static atomic_int pending[NSIG];
// The wakeup fd of each signal plus one, so that the zero-initialized state means "none".
static atomic_int wakeup_slots[NSIG];
// Touched only under the Swift-side lock that serializes install/restore.
static struct sigaction saved[NSIG];
static int saved_valid[NSIG];

static void cloop_signal_handler(int signo) {
    int saved_errno = errno;
    if (signo > 0 && signo < NSIG) {
        atomic_store(&pending[signo], 1);
        int slot = atomic_load(&wakeup_slots[signo]);
        if (slot > 0) {
            unsigned char byte = (unsigned char)signo;
            // A full pipe (EAGAIN) is fine: it is already readable and the flag is set.
            ssize_t ignored = write(slot - 1, &byte, 1);
            (void)ignored;
        }
    }
    errno = saved_errno;
}

int cloop_nsig(void) { return NSIG; }

int cloop_signal_is_valid(int signo) {
    if (signo <= 0 || signo >= NSIG) return 0;
    sigset_t all;
    sigfillset(&all);
    return sigismember(&all, signo) == 1;
}

int cloop_is_main_thread(void) {
#if defined(__linux__)
    return getpid() == (pid_t)syscall(SYS_gettid);
#else
    return pthread_main_np() != 0;
#endif
}

int cloop_signal_install(int signo, int wakeup_fd) {
    if (signo <= 0 || signo >= NSIG) {
        errno = EINVAL;
        return -1;
    }
    if (wakeup_fd < 0) {
        errno = EBADF;
        return -1;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = cloop_signal_handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // asyncio: siginterrupt(sig, False)
    int previous_slot = atomic_exchange(&wakeup_slots[signo], wakeup_fd + 1);
    struct sigaction old;
    if (sigaction(signo, &action, &old) != 0) {
        int failure = errno;
        atomic_store(&wakeup_slots[signo], previous_slot);
        errno = failure;
        return -1;
    }
    if (!saved_valid[signo]) {
        saved[signo] = old;
        saved_valid[signo] = 1;
    }
    return 0;
}

int cloop_signal_restore(int signo) {
    if (signo <= 0 || signo >= NSIG) {
        errno = EINVAL;
        return -1;
    }
    atomic_store(&wakeup_slots[signo], 0);
    if (!saved_valid[signo]) return 0;
    saved_valid[signo] = 0;
    return sigaction(signo, &saved[signo], NULL);
}

int cloop_signal_take_pending(int signo) {
    if (signo <= 0 || signo >= NSIG) return 0;
    return atomic_exchange(&pending[signo], 0);
}

int cloop_signal_disposition(int signo) {
    struct sigaction current;
    if (signo <= 0 || signo >= NSIG || sigaction(signo, NULL, &current) != 0) return -1;
    if ((current.sa_flags & SA_SIGINFO) == 0) {
        if (current.sa_handler == SIG_DFL) return 0;
        if (current.sa_handler == SIG_IGN) return 1;
        if (current.sa_handler == cloop_signal_handler) return 2;
    }
    return 3;
}

int cloop_signal_set_disposition(int signo, int disposition) {
    if (signo <= 0 || signo >= NSIG || (disposition != 0 && disposition != 1)) {
        errno = EINVAL;
        return -1;
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = disposition == 0 ? SIG_DFL : SIG_IGN;
    sigemptyset(&action.sa_mask);
    return sigaction(signo, &action, NULL);
}
