// CPU affinity for LoopGroup's pinning: CPU_SET and pthread_setaffinity_np are macros
// and _GNU_SOURCE functions Swift cannot reach.
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include "CLoopShims.h"

int cloop_cpu_set_size(void) { return CPU_SETSIZE; }

int cloop_cpu_allowed(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_ISSET(cpu, &set) ? 1 : 0;
}

int cloop_pin_thread(unsigned long thread, int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return EINVAL;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np((pthread_t)thread, sizeof set, &set);
}
