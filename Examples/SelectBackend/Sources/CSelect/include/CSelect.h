#ifndef CSELECT_H
#define CSELECT_H

#include <sys/select.h>

// FD_ZERO, FD_SET, FD_CLR and FD_ISSET are C macros, which Swift cannot call:
// these functions wrap them. Every fd passed must be in [0, FD_SETSIZE).

/// FD_SETSIZE: one more than the highest descriptor an fd_set can hold.
int cselect_setsize(void);
void cselect_zero(fd_set *set);
void cselect_set(int fd, fd_set *set);
void cselect_clear(int fd, fd_set *set);
int cselect_isset(int fd, const fd_set *set);

#endif
