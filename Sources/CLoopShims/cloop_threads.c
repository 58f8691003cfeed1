// Kept apart from CLoopShims.c: pthread_setname_np needs _GNU_SOURCE before the first include.
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "CLoopShims.h"

void cloop_set_thread_name(const char *name) {
    char truncated[16];  // Linux allows 15 characters plus the terminator.
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = 0;
#if defined(__APPLE__)
    pthread_setname_np(truncated);
#else
    pthread_setname_np(pthread_self(), truncated);
#endif
}

int cloop_online_cpu_count(void) {
    long count = sysconf(_SC_NPROCESSORS_ONLN);
    return count > 0 ? (int)count : 1;
}
