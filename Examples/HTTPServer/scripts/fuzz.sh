#!/usr/bin/env bash
# Builds the parser's libFuzzer target (address sanitizer on) and runs it on a copy of
# Fuzz/corpus for SECONDS seconds (default 60); new inputs it finds go to .build-fuzz/corpus,
# crashes to .build-fuzz/. Prints libFuzzer's final stats (execs/s, coverage).
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_TO_RUN="${1:-60}"
swift build -c debug --product http-fuzz --scratch-path .build-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING
mkdir -p .build-fuzz/corpus
cp Fuzz/corpus/* .build-fuzz/corpus/
.build-fuzz/debug/http-fuzz .build-fuzz/corpus -max_total_time="$SECONDS_TO_RUN" -print_final_stats=1 \
    -artifact_prefix=.build-fuzz/ -max_len=4096
