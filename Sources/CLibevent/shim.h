#ifndef C_LIBEVENT_SHIM_H
#define C_LIBEVENT_SHIM_H
// libevent's event-config.h defines _GNU_SOURCE before including system headers,
// which would give this module a different fd_set than Glibc's. Including the
// system headers first keeps one definition across modules (clean builds fail otherwise).
#include <sys/types.h>
#include <sys/time.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <errno.h>
#include <time.h>
#include <netdb.h>
#include <event2/event.h>
#include <event2/thread.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#endif
