#ifndef C_LIBURING_SHIM_H
#define C_LIBURING_SHIM_H
// liburing (Debian's liburing-dev). Most of its helpers are static inline; the
// CLoopUring target wraps the ones LoopUring uses in real functions.
#include <sys/types.h>
#include <liburing.h>
#endif
