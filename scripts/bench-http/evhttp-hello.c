/* evhttp-hello: libevent's evhttp answering every request with "Hello, World!", the
 * anchor of scripts/bench-http.sh.
 *
 * build: cc -O2 -o evhttp-hello evhttp-hello.c -levent
 * usage: evhttp-hello PORT [WORKERS]
 * WORKERS > 1 forks that many processes, each with its own event base and a
 * SO_REUSEPORT listener (evhttp itself is single-threaded). Runs until SIGTERM/SIGINT.
 */
#include <arpa/inet.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void hello(struct evhttp_request *req, void *arg) {
    (void)arg;
    struct evbuffer *body = evhttp_request_get_output_buffer(req);
    evbuffer_add(body, "Hello, World!", 13);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", "text/plain; charset=utf-8");
    evhttp_send_reply(req, 200, "OK", NULL);
}

static void on_signal(evutil_socket_t fd, short what, void *arg) {
    (void)fd; (void)what;
    event_base_loopbreak(arg);
}

static int serve(int port, int reuse_port) {
    struct event_base *base = event_base_new();
    struct evhttp *http = evhttp_new(base);
    evhttp_set_gencb(http, hello, NULL);
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(port)};
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | (reuse_port ? LEV_OPT_REUSEABLE_PORT : 0);
    struct evconnlistener *listener = evconnlistener_new_bind(base, NULL, NULL, flags, 1024, (struct sockaddr *)&sin, sizeof sin);
    if (!listener) { perror("evconnlistener_new_bind"); return 1; }
    evhttp_bind_listener(http, listener);
    struct event *term = evsignal_new(base, SIGTERM, on_signal, base);
    struct event *intr = evsignal_new(base, SIGINT, on_signal, base);
    event_add(term, NULL);
    event_add(intr, NULL);
    event_base_dispatch(base);
    event_free(term);
    event_free(intr);
    evhttp_free(http);
    event_base_free(base);
    return 0;
}

static pid_t children[64];
static int child_count;

static void forward(int signo) {
    for (int i = 0; i < child_count; i++) kill(children[i], signo == SIGINT ? SIGTERM : signo);
}

int main(int argc, char **argv) {
    int port = argc > 1 ? atoi(argv[1]) : 8080;
    int workers = argc > 2 ? atoi(argv[2]) : 1;
    if (workers <= 1) return serve(port, 0);
    if (workers > 64) workers = 64;
    for (int i = 0; i < workers; i++) {
        pid_t pid = fork();
        if (pid == 0) return serve(port, 1);
        children[child_count++] = pid;
    }
    signal(SIGTERM, forward);
    signal(SIGINT, forward);
    while (wait(NULL) > 0) {}
    return 0;
}
