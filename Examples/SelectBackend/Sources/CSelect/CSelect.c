#include "CSelect.h"

int cselect_setsize(void) { return FD_SETSIZE; }

void cselect_zero(fd_set *set) { FD_ZERO(set); }

void cselect_set(int fd, fd_set *set) { FD_SET(fd, set); }

void cselect_clear(int fd, fd_set *set) { FD_CLR(fd, set); }

int cselect_isset(int fd, const fd_set *set) { return FD_ISSET(fd, set) ? 1 : 0; }
