"""uvloop + httptools hello-world HTTP/1.1 server, the anchor of scripts/bench-http.sh.

usage: python3 uvloop-httptools.py PORT [WORKERS]
WORKERS > 1 forks that many processes, each with its own loop and a SO_REUSEPORT
listening socket (asyncio's only way past one core). Keep-alive per HTTP/1.1 rules.
"""
import asyncio
import os
import signal
import sys

import httptools
import uvloop

RESPONSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Content-Length: 13\r\n\r\nHello, World!")
CLOSE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\n"
         b"Content-Length: 13\r\nConnection: close\r\n\r\nHello, World!")
BAD = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


class Hello(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        self.parser = httptools.HttpRequestParser(self)

    def data_received(self, data):
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            self.transport.write(BAD)
            self.transport.close()

    def on_message_complete(self):
        if self.parser.should_keep_alive():
            self.transport.write(RESPONSE)
        else:
            self.transport.write(CLOSE)
            self.transport.close()


async def serve(port, reuse_port):
    loop = asyncio.get_running_loop()
    server = await loop.create_server(Hello, "127.0.0.1", port, reuse_port=reuse_port, backlog=1024)
    stop = loop.create_future()
    for signo in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signo, stop.set_result, None)
    await stop
    server.close()


def main():
    port = int(sys.argv[1])
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    if workers == 1:
        uvloop.run(serve(port, False))
        return
    children = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            uvloop.run(serve(port, True))
            os._exit(0)
        children.append(pid)
    signal.signal(signal.SIGTERM, lambda *_: [os.kill(child, signal.SIGTERM) for child in children])
    signal.signal(signal.SIGINT, lambda *_: [os.kill(child, signal.SIGTERM) for child in children])
    for child in children:
        os.waitpid(child, 0)


if __name__ == "__main__":
    main()
