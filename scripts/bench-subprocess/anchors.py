#!/usr/bin/env python3
"""Benchmark W8 anchors on asyncio and uvloop: spawn-and-wait /bin/true x1000
sequentially (W8a) and 50 at a time (W8b), and 64 MiB through cat and back (W8c).
Prints one JSON line per loop x row, the median of --runs runs (default 3)."""
import argparse
import asyncio
import json
import statistics
import time

CHILDREN, WIDTH, MIB = 1000, 50, 64


async def spawn_and_wait(width):
    async def worker(start):
        for _ in range(start, CHILDREN, width):
            proc = await asyncio.create_subprocess_exec("/bin/true")
            if await proc.wait() != 0:
                raise RuntimeError("/bin/true failed")
    await asyncio.gather(*(worker(i) for i in range(width)))


async def cat_round_trip():
    chunk = bytes((i * 31) & 0xFF for i in range(1 << 20))
    proc = await asyncio.create_subprocess_exec(
        "cat", stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)

    async def write():
        for _ in range(MIB):
            proc.stdin.write(chunk)
            await proc.stdin.drain()
        proc.stdin.close()

    writer = asyncio.ensure_future(write())
    received = 0
    ok = True
    while True:
        piece = await proc.stdout.read(1 << 20)
        if not piece:
            break
        start = received & ((1 << 20) - 1)
        expected = (chunk[start:] + chunk)[:len(piece)] if start + len(piece) > len(chunk) else chunk[start:start + len(piece)]
        ok = ok and piece == expected
        received += len(piece)
    await writer
    code = await proc.wait()
    if not ok or received != MIB << 20 or code != 0:
        raise RuntimeError(f"cat round trip: {received} bytes, ok {ok}, exit {code}")


ROWS = {
    "W8a": (lambda: spawn_and_wait(1), CHILDREN, "ns_per_child"),
    "W8b": (lambda: spawn_and_wait(WIDTH), CHILDREN, "ns_per_child"),
    "W8c": (cat_round_trip, MIB, "ns_per_mib"),
}


def measure(make_loop, row):
    body, count, _ = ROWS[row]
    loop = make_loop()
    try:
        start = time.perf_counter_ns()
        loop.run_until_complete(body())
        return (time.perf_counter_ns() - start) / count
    finally:
        loop.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    loops = [("asyncio", asyncio.new_event_loop)]
    try:
        import uvloop
        loops.append((f"uvloop-{uvloop.__version__}", uvloop.new_event_loop))
    except ImportError:
        print("uvloop is not installed: pip install uvloop", flush=True)
    for name, make_loop in loops:
        for row, (_, _, unit) in ROWS.items():
            runs = [measure(make_loop, row) for _ in range(args.runs)]
            print(json.dumps({"system": name, "workload": row, unit: int(statistics.median(runs)),
                              "runs": [int(r) for r in runs]}), flush=True)


if __name__ == "__main__":
    main()
