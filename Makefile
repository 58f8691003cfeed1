# The two commands of the README: `make run` (the main job on the default backend)
# and `make test` (every test: unit tests plus the conformance suite on every
# backend, debug mode off and on). Both install missing system packages first.

SWIFT ?= swift
RELEASE_BIN := .build/release

.PHONY: run test deps build release bench conformance clean

deps:
	@./scripts/install-deps.sh

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product loopctl

run: release
	$(RELEASE_BIN)/loopctl backends
	$(RELEASE_BIN)/loopctl conformance

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test

conformance: release
	$(RELEASE_BIN)/loopctl conformance --all-backends

bench: release
	$(RELEASE_BIN)/loopctl bench

clean:
	rm -rf .build
