#!/usr/bin/env bash
# W3 and W4 of ../shared/bench/WORKLOADS.md: `loopctl echo-server` on each built-in
# backend, and beside it whichever anchors are built, one cell at a time so that
# every system meets the same machine state. Each run gets a fresh server pinned to
# CPU 1 and the echo-load client (which verifies every byte) pinned to CPU 0.
#
# usage: scripts/bench-echo.sh            (after `swift build -c release`)
# environment:
#   SECS=5                 seconds per run (echo-load -t)
#   REPS=1                 rounds over every cell and system; the table shows medians
#   CELLS="W3:1:64 ..."    the cells to run (default: every W3 and W4 cell)
#   SYSTEMS="loop-epoll …" the systems to run (default: every one available)
#   NIO_ECHO=path          SwiftNIO anchor (../shared/bench/anchors/nio, nio-echo)
#   UVLOOP_PYTHON=path     a python with uvloop (../shared/bench/anchors/python)
#   EPOLL_ECHO=path        raw C epoll anchor (../shared/bench/anchors/c, epoll-echo)
# Prints one JSON line per run, then a table of requests per second (and the
# server's peak RSS for W4) and one of the server's CPU use while the client ran.
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SHARED="${SHARED:-$ROOT/../shared}"
SECS="${SECS:-5}"
REPS="${REPS:-1}"
LOOPCTL="$ROOT/.build/release/loopctl"
WORK="$ROOT/.build-bench"
ECHO_LOAD="$WORK/echo-load"
mkdir -p "$WORK"

[ -x "$LOOPCTL" ] || { echo "bench-echo: build first: swift build -c release" >&2; exit 2; }
if [ ! -x "$ECHO_LOAD" ] || [ "$SHARED/bench/echo-load.c" -nt "$ECHO_LOAD" ]; then
    cc -O2 -o "$ECHO_LOAD" "$SHARED/bench/echo-load.c" || exit 2
fi

declare -A COMMAND
ORDER=()
add() { COMMAND[$1]="$2"; ORDER+=("$1"); }
add loop-epoll "$LOOPCTL echo-server --backend epoll"
add loop-libevent "$LOOPCTL echo-server --backend libevent"
add loop-poll "$LOOPCTL echo-server --backend poll"
add loop-epoll-streams "$LOOPCTL echo-server --backend epoll --streams"
add loop-epoll-busypoll "$LOOPCTL echo-server --backend epoll --busy-poll-us 50"
[ -n "${NIO_ECHO:-}" ] && add swiftnio "$NIO_ECHO"
[ -n "${UVLOOP_PYTHON:-}" ] && add uvloop "$UVLOOP_PYTHON $SHARED/bench/anchors/python/echo_server.py --loop uvloop"
[ -n "${EPOLL_ECHO:-}" ] && add c-epoll "$EPOLL_ECHO"
SYSTEMS="${SYSTEMS:-${ORDER[*]}}"
CELLS="${CELLS:-W3:1:64:0 W3:100:64:0 W3:1:4096:0 W3:100:4096:0 W3:1:65536:0 W3:100:65536:0 W4:1:64:0 W4:1:64:1000 W4:1:64:10000}"

PORT=19400
SERVER_PID=""
start_server() { # system -> SERVER_PID, PORT
    local i
    for _ in $(seq 20); do
        PORT=$((PORT + 1))
        # shellcheck disable=SC2086
        taskset -c 1 ${COMMAND[$1]} --port "$PORT" >/dev/null 2>"$WORK/server.err" </dev/null &
        SERVER_PID=$!
        for i in $(seq 200); do
            (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.05
        done
        kill "$SERVER_PID" 2>/dev/null
        wait "$SERVER_PID" 2>/dev/null
    done
    echo "bench-echo: $1 did not start: $(head -3 "$WORK/server.err")" >&2
    return 1
}

stop_server() {
    kill -INT "$SERVER_PID" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$SERVER_PID" 2>/dev/null
    wait "$SERVER_PID" 2>/dev/null
}

field() { sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" <<<"$2"; }

# The server's user + system CPU time so far, in clock ticks (every thread).
HZ="$(getconf CLK_TCK)"
cpu_ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

declare -A RESULT
for round in $(seq "$REPS"); do
    for cell in $CELLS; do
        IFS=: read -r workload conns size idle <<<"$cell"
        for system in $SYSTEMS; do
            [ -n "${COMMAND[$system]:-}" ] || { echo "bench-echo: unknown system $system" >&2; continue; }
            start_server "$system" || continue
            ticks0="$(cpu_ticks "$SERVER_PID")"
            wall0="$(date +%s%N)"
            out="$(taskset -c 0 "$ECHO_LOAD" -h 127.0.0.1 -p "$PORT" -c "$conns" -s "$size" -t "$SECS" -i "$idle" 2>"$WORK/client.err")"
            rc=$?
            ticks1="$(cpu_ticks "$SERVER_PID")"
            wall1="$(date +%s%N)"
            hwm="$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$SERVER_PID/status" 2>/dev/null)"
            stop_server
            cpu="$(awk -v t="$((ticks1 - ticks0))" -v hz="$HZ" -v ns="$((wall1 - wall0))" 'BEGIN { printf "%.0f", 100 * t / hz / (ns / 1e9) }')"
            echo "{\"round\":$round,\"system\":\"$system\",\"workload\":\"$workload\",\"conns\":$conns,\"size\":$size,\"idle\":$idle,\"client_rc\":$rc,\"server_vmhwm_kib\":${hwm:--1},\"server_cpu_percent\":$cpu,\"load\":${out:-null}}"
            rps="$(field req_per_s "$out")"
            [ "$rc" = 0 ] || rps="FAIL"
            RESULT[$cell/$system]+="${rps:-FAIL} "
            RESULT[$cell/$system/cpu]+="$cpu "
            [ "$workload" = W4 ] && RESULT[$cell/$system/rss]+="${hwm:-0} "
            sleep 0.2
        done
    done
done

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "?"; else print v[int((NR + 1) / 2)] }'; }

printf '\n%-22s' "cell (workload:c:s:i)"
for system in $SYSTEMS; do printf ' %20s' "$system"; done
printf '\n'
for cell in $CELLS; do
    printf '%-22s' "$cell"
    for system in $SYSTEMS; do
        value="$(median <<<"${RESULT[$cell/$system]:-}")"
        [ -n "${RESULT[$cell/$system/rss]:-}" ] && value="$value ($(median <<<"${RESULT[$cell/$system/rss]}") KiB)"
        printf ' %20s' "$value"
    done
    printf '\n'
done

printf '\nserver CPU %% while the client ran (medians)\n%-22s' "cell (workload:c:s:i)"
for system in $SYSTEMS; do printf ' %20s' "$system"; done
printf '\n'
for cell in $CELLS; do
    printf '%-22s' "$cell"
    for system in $SYSTEMS; do printf ' %20s' "$(median <<<"${RESULT[$cell/$system/cpu]:-}")"; done
    printf '\n'
done
