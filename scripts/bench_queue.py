#!/usr/bin/env python3
"""W9-queue in asyncio and uvloop: the twin of `loopctl bench --workload W9-queue`.

N integers through an asyncio.Queue(maxsize=100); 4 producer tasks put their share
with `await q.put`, 4 consumer tasks `await q.get()` until a sentinel (-1) that the
main task puts once the producers are done. Timed inside the main task, from before
the tasks are made to after the last consumer ends. Each run is a fresh process;
prints one JSON line per system, the median of the runs, in the shape of
shared/bench/README.md. Pin it as loopctl bench is pinned:

    taskset -c 1 python3 scripts/bench_queue.py [--n 1000000] [--runs 5] [--system asyncio|uvloop]
"""
import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

PRODUCERS = 4
CONSUMERS = 4
MAXSIZE = 100


async def workload(n):
    queue = asyncio.Queue(maxsize=MAXSIZE)
    consumed = 0

    async def produce(share):
        for item in range(share):
            await queue.put(item)

    async def consume():
        nonlocal consumed
        while await queue.get() >= 0:
            consumed += 1

    start = time.perf_counter_ns()
    producers = [asyncio.create_task(produce(n // PRODUCERS + (i < n % PRODUCERS))) for i in range(PRODUCERS)]
    consumers = [asyncio.create_task(consume()) for _ in range(CONSUMERS)]
    for producer in producers:
        await producer
    for _ in range(CONSUMERS):
        await queue.put(-1)
    for consumer in consumers:
        await consumer
    end = time.perf_counter_ns()
    if consumed != n:
        raise SystemExit(f"wrong result: {consumed} of {n} items consumed")
    return end - start


def child(system, n):
    if system == "uvloop":
        import uvloop
        wall = uvloop.run(workload(n))
    else:
        wall = asyncio.run(workload(n))
    print(wall)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--system", choices=["asyncio", "uvloop"], action="append")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    systems = args.system or ["asyncio", "uvloop"]
    if args.child:
        child(systems[0], args.n)
        return
    for system in systems:
        runs = []
        for index in range(args.runs):
            print(f"[bench] {system} W9-queue run {index + 1}/{args.runs}", file=sys.stderr)
            out = subprocess.run(
                [sys.executable, __file__, "--child", "--system", system, "--n", str(args.n)],
                check=True, capture_output=True, text=True).stdout
            runs.append(int(out.split()[-1]) / args.n)
        print(json.dumps({
            "system": system, "workload": "W9-queue", "ns_per_op": round(statistics.median(runs), 1),
            "runs": [round(r, 1) for r in runs], "python": sys.version.split()[0],
        }))


if __name__ == "__main__":
    main()
