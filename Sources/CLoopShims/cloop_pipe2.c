// Kept apart from CLoopShims.c: pipe2 needs _GNU_SOURCE before the first include.
#define _GNU_SOURCE
#include <fcntl.h>
#include <unistd.h>
#include "CLoopShims.h"

int cloop_pipe2(int fds[2], int flags) { return pipe2(fds, flags); }
