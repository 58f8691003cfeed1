#!/usr/bin/env bash
# Issue 15's benchmarks, back to back, one fresh server per run:
#   HTTP hello world, keep-alive, 100 connections: `taskset -c 0 wrk -t1 -c100 -d${SECS}s`
#   against Examples/HTTPServer at 1 and 2 loops (SO_REUSEPORT and handoff), SwiftNIO's
#   NIOHTTP1 (scripts/bench-http/nio), uvloop + httptools and libevent's evhttp
#   (scripts/bench-http/), at 1 and 2 threads/processes;
#   echo W3 100 × 64 B: echo-load -c 100 -s 64 against `loopctl echo-server --loops N`.
# Each server runs pinned: SERVER_CPUS (default 1, so client and server never share a
# core; 2 loops then share CPU 1) and, where SHARED_CPUS is set (default "0,1"), again on
# those CPUs, sharing CPU 0 with the client: on a 2-core machine that is the only way
# to give a 2-loop server two cores.
#
# usage: scripts/bench-http.sh   (builds what is missing: loopctl and the example in
#        release, the NIO anchor in .build-nio-http, evhttp-hello and echo-load)
# environment: SECS=5, SERVER_CPUS=1, SHARED_CPUS="0,1" ("" to skip), SYSTEMS="..." to
#              pick systems (loop nio uvloop evhttp echo), PYTHON=python3
# Prints a line per run and a table: requests/s, p99 latency, 2 ÷ 1 ratios.
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
[ -f "$SHARED/bench/echo-load.c" ] || SHARED=/work/shared
SECS="${SECS:-5}"
SERVER_CPUS="${SERVER_CPUS:-1}"
SHARED_CPUS="${SHARED_CPUS-0,1}"
SYSTEMS="${SYSTEMS:-loop nio uvloop evhttp echo}"
PYTHON="${PYTHON:-python3}"
WORK="$ROOT/.build-bench"
NIO_SCRATCH="$ROOT/.build-nio-http"
mkdir -p "$WORK"

HTTP_SERVER="$ROOT/Examples/HTTPServer/.build/release/http-server"
LOOPCTL="$ROOT/.build/release/loopctl"
NIO_SERVER="$NIO_SCRATCH/release/nio-http-hello"
EVHTTP="$WORK/evhttp-hello"
ECHO_LOAD="$WORK/echo-load"

build() {
    [ -x "$LOOPCTL" ] || (cd "$ROOT" && swift build -c release --product loopctl) || exit 2
    [ -x "$HTTP_SERVER" ] || (cd "$ROOT/Examples/HTTPServer" && swift build -c release --product http-server) || exit 2
    if [[ " $SYSTEMS " == *" nio "* ]] && [ ! -x "$NIO_SERVER" ]; then
        (cd "$ROOT/scripts/bench-http/nio" && swift build -c release --scratch-path "$NIO_SCRATCH") || exit 2
    fi
    [ -x "$EVHTTP" ] || cc -O2 -o "$EVHTTP" "$ROOT/scripts/bench-http/evhttp-hello.c" -levent || exit 2
    [ -x "$ECHO_LOAD" ] || cc -O2 -o "$ECHO_LOAD" "$SHARED/bench/echo-load.c" || exit 2
}
build

PORT=18300
ROWS=()

# start CPUS COMMAND...: starts the server pinned to CPUS; sets PID.
start() {
    local cpus=$1; shift
    taskset -c "$cpus" "$@" >"$WORK/server.log" 2>&1 &
    PID=$!
}

stop() {
    kill -TERM "$PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null
    wait "$PID" 2>/dev/null
}

wait_http() {
    for _ in $(seq 100); do
        curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$PORT/" && return 0
        sleep 0.1
    done
    echo "bench-http: the server on port $PORT did not answer:" >&2
    cat "$WORK/server.log" >&2
    return 1
}

wait_tcp() {
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# http NAME LOOPS CPUS COMMAND... (the command gets the port as $PORT already expanded)
http() {
    local name=$1 loops=$2 cpus=$3; shift 3
    PORT=$((PORT + 1))
    local command=("${@//@PORT@/$PORT}")
    start "$cpus" "${command[@]}"
    if wait_http; then
        local out
        out=$(taskset -c 0 wrk -t1 -c100 -d"${SECS}s" --latency "http://127.0.0.1:$PORT/" 2>&1)
        local rps p99 errors
        rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
        p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
        errors=$(grep -E "Non-2xx|Socket errors" <<<"$out" | tr -s ' ' | tr '\n' ' ')
        echo "http $name loops=$loops cpus=$cpus req/s=$rps p99=$p99 $errors"
        ROWS+=("http|$name|$loops|$cpus|$rps|$p99")
    fi
    stop
}

# echo NAME LOOPS CPUS COMMAND...
echo_w3() {
    local name=$1 loops=$2 cpus=$3; shift 3
    PORT=$((PORT + 1))
    local command=("${@//@PORT@/$PORT}")
    start "$cpus" "${command[@]}"
    if wait_tcp; then
        local out rps p99
        out=$(taskset -c 0 "$ECHO_LOAD" -p "$PORT" -c 100 -s 64 -t "$SECS" 2>&1)
        rps=$(grep -o '"req_per_s": *[0-9.]*' <<<"$out" | grep -o '[0-9.]*$')
        p99=$(grep -o '"p99_us": *[0-9.]*' <<<"$out" | grep -o '[0-9.]*$')
        echo "echo $name loops=$loops cpus=$cpus req/s=$rps p99=${p99}us"
        ROWS+=("echo|$name|$loops|$cpus|$rps|${p99}us")
    fi
    stop
}

for cpus in "$SERVER_CPUS" $SHARED_CPUS; do
    for loops in 1 2; do
        # A 1-loop server gains nothing from a second CPU: run it on the dedicated one only.
        if [ "$cpus" != "$SERVER_CPUS" ] && [ "$loops" = 1 ]; then continue; fi
        if [[ " $SYSTEMS " == *" loop "* ]]; then
            http "swift-loop(reuse-port)" "$loops" "$cpus" "$HTTP_SERVER" --port @PORT@ --loops "$loops" --reuse-port
            [ "$loops" = 2 ] && http "swift-loop(handoff)" "$loops" "$cpus" "$HTTP_SERVER" --port @PORT@ --loops "$loops" --handoff
        fi
        [[ " $SYSTEMS " == *" nio "* ]] && http "swift-nio NIOHTTP1" "$loops" "$cpus" "$NIO_SERVER" @PORT@ "$loops"
        [[ " $SYSTEMS " == *" uvloop "* ]] && http "uvloop+httptools" "$loops" "$cpus" "$PYTHON" "$ROOT/scripts/bench-http/uvloop-httptools.py" @PORT@ "$loops"
        [[ " $SYSTEMS " == *" evhttp "* ]] && http "libevent evhttp" "$loops" "$cpus" "$EVHTTP" @PORT@ "$loops"
        if [[ " $SYSTEMS " == *" echo "* ]]; then
            echo_w3 "loopctl echo(reuse-port)" "$loops" "$cpus" "$LOOPCTL" echo-server --port @PORT@ --loops "$loops" --reuse-port
            [ "$loops" = 2 ] && echo_w3 "loopctl echo(handoff)" "$loops" "$cpus" "$LOOPCTL" echo-server --port @PORT@ --loops "$loops" --handoff
        fi
    done
done

echo
printf '%-5s %-26s %-5s %-5s %12s %10s %8s\n' test system loops cpus "req/s" p99 "÷1 loop"
for row in "${ROWS[@]}"; do
    IFS='|' read -r test name loops cpus rps p99 <<<"$row"
    ratio=""
    if [ "$loops" = 2 ]; then
        base=""
        for other in "${ROWS[@]}"; do
            IFS='|' read -r t2 n2 l2 c2 r2 _ <<<"$other"
            # The 1-loop figure of the same system (handoff compares with the reuse-port one).
            if [ "$t2" = "$test" ] && [ "$l2" = 1 ] && [ "${n2%(*}" = "${name%(*}" ]; then base=$r2; break; fi
        done
        [ -n "$base" ] && [ -n "$rps" ] && ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN { if (b > 0) printf "%.2f", a / b }')
    fi
    printf '%-5s %-26s %-5s %-5s %12s %10s %8s\n' "$test" "$name" "$loops" "$cpus" "$rps" "$p99" "$ratio"
done
