#include "CLoopShims.h"
#include <pthread.h>

static _Thread_local void *running_loop = 0;

void *cloop_running_loop(void) { return running_loop; }

void cloop_set_running_loop(void *loop) { running_loop = loop; }

long long cloop_monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

unsigned long cloop_thread_id(void) { return (unsigned long)pthread_self(); }

int cloop_fd_is_open(int fd) { return fcntl(fd, F_GETFD) >= 0 || errno != EBADF; }

int cloop_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    int wanted = on ? (flags | O_NONBLOCK) : (flags & ~O_NONBLOCK);
    if (wanted == flags) return 0;
    return fcntl(fd, F_SETFL, wanted);
}
