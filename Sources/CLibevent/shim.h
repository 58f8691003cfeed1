#ifndef C_LIBEVENT_SHIM_H
#define C_LIBEVENT_SHIM_H
#include <event2/event.h>
#include <event2/thread.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#endif
