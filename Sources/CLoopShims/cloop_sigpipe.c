// SIGPIPE suppression around writes that cannot pass MSG_NOSIGNAL (libevent's
// bufferevents write with writev): the classic block / write / consume / unblock.
#include <pthread.h>
#include <signal.h>
#include <errno.h>
#include <time.h>
#include "CLoopShims.h"

static void sigpipe_set(sigset_t *set) {
    sigemptyset(set);
    sigaddset(set, SIGPIPE);
}

void cloop_sigpipe_block(cloop_sigpipe_guard *guard) {
    sigset_t pipe_set, pending;
    sigpipe_set(&pipe_set);
    sigemptyset(&pending);
    guard->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    guard->blocked = pthread_sigmask(SIG_BLOCK, &pipe_set, &guard->saved_mask) == 0
        && sigismember(&guard->saved_mask, SIGPIPE) == 0;
}

void cloop_sigpipe_unblock(cloop_sigpipe_guard *guard) {
    if (!guard->blocked) return;
    int saved_errno = errno;
    sigset_t pipe_set, pending;
    sigpipe_set(&pipe_set);
    sigemptyset(&pending);
    if (!guard->was_pending && sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
        struct timespec zero = {0, 0};
        while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR) {}
    }
    pthread_sigmask(SIG_SETMASK, &guard->saved_mask, NULL);
    guard->blocked = 0;
    errno = saved_errno;
}
