#!/usr/bin/env bash
# Installs what the build needs and is missing: pkg-config, libevent 2.1 and liburing headers,
# OpenSSL 3 (headers for LoopTLS, the openssl CLI for its real-peer tests), and curl and
# wrk (the HTTP example's real peers).
# Debian/Ubuntu only (apt-get); runs apt-get through sudo when not root.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if ! pkg-config --exists libevent libevent_pthreads 2>/dev/null; then missing+=(libevent-dev); fi
if ! pkg-config --exists openssl 2>/dev/null; then missing+=(libssl-dev); fi
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
if ! pkg-config --exists liburing 2>/dev/null; then missing+=(liburing-dev); fi
command -v cc >/dev/null 2>&1 || missing+=(gcc)
# Real peers for the HTTP example's tests.
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)

if [ ${#missing[@]} -eq 0 ]; then exit 0; fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
    exit 1
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${missing[@]}" >/dev/null
