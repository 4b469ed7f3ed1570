# connctl's developer entry points. `make` alone lists them.
# The test run itself lives in scripts/test.sh, so that CI, the README and
# `make test` run exactly the same thing.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO         ?= go
GORELEASER ?= scripts/goreleaser.sh
BIN        := bin/connctl
BUILD_PKG  := github.com/connctl/connctl/internal/build

# Version from the nearest v* tag (without the v), empty when there is none:
# then internal/build reports "dev" or what the Go toolchain recorded.
# Date is the commit's, in UTC, so that a rebuild of the same commit is identical.
VERSION ?= $(shell git describe --tags --match 'v[0-9]*' --dirty 2>/dev/null | sed 's/^v//')
COMMIT  ?= $(shell git rev-parse -q --verify HEAD 2>/dev/null)
DATE    ?= $(shell TZ=UTC git log -1 --format=%cd --date=format-local:%Y-%m-%dT%H:%M:%SZ 2>/dev/null)
LDFLAGS := $(if $(VERSION),-X $(BUILD_PKG).Version=$(VERSION)) \
           -X $(BUILD_PKG).Commit=$(COMMIT) -X $(BUILD_PKG).Date=$(DATE)

ARGS ?=

.PHONY: help build run test test-unit bench lint docs check-generated release-check snapshot clean

help: ## list the targets
	@grep -E '^[a-z][a-zA-Z_-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-16s %s\n", $$1, $$2}'

build: ## build bin/connctl with version, commit and date stamped in
	$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/connctl

run: build ## build, then run bin/connctl with ARGS, e.g. make run ARGS="list -o json"
	./$(BIN) $(ARGS)

test: ## the full test run: deps, lint, generated files, go test -race, real-keyring e2e (scripts/test.sh)
	scripts/test.sh

test-unit: ## go test -race ./... only (in-memory keyring, no installs)
	GORACE="atexit_sleep_ms=0 $$GORACE" $(GO) test -race -timeout 30m ./...

bench: ## run the benchmarks, no tests
	$(GO) test -run '^$$' -bench . -benchmem ./...

lint: ## gofmt check and go vet (golangci-lint too, if installed)
	scripts/lint.sh

docs: ## regenerate docs/cli, docs/man and completions/ from the command tree
	$(GO) run ./cmd/gen-docs

check-generated: ## fail if docs/cli, docs/man, completions/ or go.mod/go.sum are stale (run make docs)
	scripts/check-generated.sh

release-check: ## goreleaser check, a snapshot release into dist/, and a run of its binary and .deb
	scripts/release-check.sh

snapshot: ## build every release artifact into dist/ without publishing
	$(GORELEASER) release --snapshot --clean --skip=publish

clean: ## remove bin/ and dist/
	rm -rf bin dist
