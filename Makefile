# unetlab: `make lab` to start working, `make test` for everything CI runs.
GO        ?= go
BIN       := bin/unetlab
PYTHON    ?= /usr/bin/python3
BENCHTIME ?= 1s
export UNETLAB_SCALE ?= laptop

.PHONY: all build lab test unit integration notebooks browser deps-test generate symbols check-generated fuzz bench bench-kernel bench-engine bench-volume bench-go clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/unetlab

# lab: build, install JupyterLab 4 and Notebook 7 into .venv/ when no
# JupyterLab 4 is on PATH (install/jupyter.sh), install the kernelspec for
# this user (where VS Code finds it too), start JupyterLab on notebooks/.
lab: build
	@dir="$$(./install/jupyter.sh)" && ./$(BIN) install --user && cd notebooks && \
	root=""; if [ "$$(id -u)" = 0 ]; then root=--allow-root; fi; \
	echo "make lab: $$dir/jupyter lab"; exec "$$dir/jupyter" lab $$root

# test: everything CI runs.
test: build deps-test unit integration notebooks browser

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

integration: build deps-test
	UNETLAB_SCALE=smoke PYTHON=$(PYTHON) ./kernel/testdata/integration.sh

# notebooks: the checker's self-test, then every shipped notebook run headless
# through nbconvert at smoke scale, failing on any error or missing output.
notebooks: build deps-test
	./notebooks/check.sh --self-test
	UNETLAB_SCALE=smoke ./notebooks/check.sh notebooks/00_quickstart.ipynb \
		notebooks/01_designs.ipynb notebooks/02_cross_validation.ipynb notebooks/03_all_tasks.ipynb

# browser: JupyterLab 4 and Notebook 7 in headless Chromium (browser/run.sh
# installs Chromium, the venv and playwright-core); screenshots in
# build/browser-artifacts/.
browser: build
	UNETLAB_SCALE=smoke ./browser/run.sh

deps-test:
	PYTHON=$(PYTHON) ./install/test-deps.sh

generate:
	$(GO) generate ./...

# symbols: regenerate only this module's yaegi symbol tables (fast); run it
# after changing an exported API. `make generate` also redoes the standard
# library's (minutes).
symbols:
	$(GO) run ./internal/cmd/symbols -o stdlib -std=false

fuzz:
	$(GO) test ./kernel/wire -run '^$$' -fuzz FuzzDecode -fuzztime 60s
	$(GO) test ./volume -run '^$$' -fuzz FuzzReadHeader -fuzztime 60s

check-generated: generate
	git diff --exit-code

# bench: the kernel's latency against ipykernel, then the Go benchmarks.
bench: bench-kernel bench-engine bench-volume bench-go

bench-kernel: build deps-test
	$(PYTHON) bench/kernel/bench.py --bin $(BIN)

bench-engine:
	$(PYTHON) bench/engine/run.py

bench-volume:
	$(GO) run ./bench/volume

bench-go:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...

clean:
	rm -rf bin build
