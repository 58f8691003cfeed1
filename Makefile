# The two commands of the README: `make run` (the main job: the echo server on the
# default backend, until Ctrl-C) and `make test` (every test: unit tests plus the conformance suite on every
# backend, debug mode off and on). Both install missing system packages first.

SWIFT ?= swift
RELEASE_BIN := .build/release

.PHONY: run test test-examples deps build release bench bench-echo conformance clean

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product loopctl

HOST ?= 127.0.0.1
PORT ?= 8888

run: release
	$(RELEASE_BIN)/loopctl backends
	$(RELEASE_BIN)/loopctl echo-server --host $(HOST) --port $(PORT)

test: deps test-examples
	$(SWIFT) build --build-tests
	$(SWIFT) test

# The example packages (each its own Swift package, depending on this one by path):
# Examples/SelectBackend runs the whole conformance suite on its select(2) backend
# and its demo program on LOOP_BACKEND=select; Examples/HTTPServer tests its parser and
# its server against curl and wrk (skipped where they are not installed).
test-examples: deps
	cd Examples/SelectBackend && $(SWIFT) build --build-tests
	cd Examples/SelectBackend && $(SWIFT) test --skip-build
	cd Examples/SelectBackend && LOOP_BACKEND=select $(SWIFT) run --skip-build select-demo
	cd Examples/HTTPServer && $(SWIFT) build --build-tests
	cd Examples/HTTPServer && $(SWIFT) test --skip-build

conformance: release
	$(RELEASE_BIN)/loopctl conformance --all-backends

# Pinned to CPU 1 as the anchors in ../shared/bench are (taskset, when installed).
PIN := $(shell command -v taskset >/dev/null 2>&1 && echo taskset -c 1)

bench: release
	$(PIN) $(RELEASE_BIN)/loopctl bench

# W3/W4 against the echo server on every backend, beside the anchors named by
# NIO_ECHO, UVLOOP_PYTHON and EPOLL_ECHO (see scripts/bench-echo.sh).
bench-echo: release
	./scripts/bench-echo.sh

clean:
	rm -rf .build Examples/SelectBackend/.build Examples/HTTPServer/.build
