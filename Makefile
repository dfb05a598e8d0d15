# unetlab: `make lab` to start working, `make test` for everything CI runs.
GO        ?= go
BIN       := bin/unetlab
PYTHON    ?= /usr/bin/python3
BENCHTIME ?= 1s
export UNETLAB_SCALE ?= laptop

.PHONY: all build lab test unit integration deps-test generate check-generated bench bench-kernel bench-go clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/unetlab

# lab: build, install Jupyter where it is missing, install the kernelspec
# for this user, start JupyterLab (or the classic Notebook) on notebooks/.
lab: build
	./install/jupyter.sh
	./$(BIN) install --user
	cd notebooks && export PATH="$$PATH:$$HOME/.local/bin" && \
	root=""; if [ "$$(id -u)" = 0 ]; then root=--allow-root; fi; \
	if jupyter lab --version >/dev/null 2>&1; then exec jupyter lab $$root; \
	else exec jupyter notebook $$root; fi

# test: everything CI runs.
test: build deps-test unit integration

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

integration: build deps-test
	UNETLAB_SCALE=smoke PYTHON=$(PYTHON) ./kernel/testdata/integration.sh

deps-test:
	PYTHON=$(PYTHON) ./install/test-deps.sh

generate:
	$(GO) generate ./...

check-generated: generate
	git diff --exit-code

# bench: the kernel's latency against ipykernel, then the Go benchmarks.
bench: bench-kernel bench-go

bench-kernel: build deps-test
	$(PYTHON) bench/kernel/bench.py --bin $(BIN)

bench-go:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...

clean:
	rm -rf bin
