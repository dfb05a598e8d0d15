# unetlab: `make lab` to start working, `make test` for everything CI runs.
GO        ?= go
BIN       := bin/unetlab
PYTHON    ?= /usr/bin/python3
BENCHTIME ?= 1s
export UNETLAB_SCALE ?= laptop

.PHONY: all build lab test unit integration grid-integration notebooks notebooks-render browser deps-test cuda-tools check-cuda generate symbols check-generated gpu-build gpu-check fuzz bench bench-kernel bench-engine bench-volume bench-go gotests clean

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
test: build deps-test cuda-tools unit check-cuda integration grid-integration notebooks browser

unit:
	$(GO) vet ./...
	$(GO) test -count=1 -timeout 30m ./...

integration: build deps-test
	UNETLAB_SCALE=smoke PYTHON=$(PYTHON) ./kernel/testdata/integration.sh

# grid-integration: the smoke grid on the local executor, then through a
# real single-node Slurm the script starts and stops (install/slurm.sh
# installs slurm-wlm and munge when missing); reruns, kills, requeues.
grid-integration: build
	./grid/testdata/integration.sh

SHIPPED_NOTEBOOKS := notebooks/00_quickstart.ipynb notebooks/01_designs.ipynb \
	notebooks/02_cross_validation.ipynb notebooks/03_all_tasks.ipynb notebooks/04_data.ipynb

# notebooks: the checker's self-test, then every shipped notebook: its
# shipped outputs checked (each code cell's source hash against the one its
# outputs were rendered from, the expected outputs), then run headless
# through nbconvert at smoke scale from a copy with its outputs cleared,
# failing on any error or missing output.
notebooks: build deps-test
	./notebooks/check.sh --self-test
	UNETLAB_SCALE=smoke ./notebooks/check.sh --require-rendered $(SHIPPED_NOTEBOOKS)

# notebooks-render: run the shipped notebooks (or RENDER_NOTEBOOKS, in
# order: 02 before 03) at UNETLAB_SCALE, default render (grid.Preset's
# scale sized to about two hours for all five on 2 CPU cores), and write
# them back with their outputs, each code cell stamped with its source's
# sha256, the scale and the date. UNETLAB_SCALE=smoke renders in minutes.
# Results go to data/ and runs/, so a second render reuses the grid's jobs.
RENDER_NOTEBOOKS ?= $(SHIPPED_NOTEBOOKS)
# The render's scale is render unless UNETLAB_SCALE comes from the command
# line or the environment: the Makefile's own default (laptop, above) is for
# the other targets.
RENDER_SCALE = $(if $(filter file,$(origin UNETLAB_SCALE)),render,$(UNETLAB_SCALE))
notebooks-render: build deps-test
	UNETLAB_SCALE=$(RENDER_SCALE) ./notebooks/check.sh --render $(RENDER_NOTEBOOKS)

# browser: JupyterLab 4 and Notebook 7 in headless Chromium (browser/run.sh
# installs Chromium, the venv and playwright-core); screenshots in
# build/browser-artifacts/.
browser: build
	UNETLAB_SCALE=smoke ./browser/run.sh

deps-test:
	PYTHON=$(PYTHON) ./install/test-deps.sh

# cuda-tools: CUDA 11.8's nvcc, ptxas, cuobjdump and headers from Debian
# non-free into .cuda/ (no GPU needed; a no-op when present). Where apt-get
# cannot run it says so and, unless UNETLAB_REQUIRE_CUDA_TOOLS=1 (CI), the
# checks that need the tools skip.
cuda-tools:
	@./install/cuda-tools.sh >/dev/null || { \
		if [ "$${UNETLAB_REQUIRE_CUDA_TOOLS:-0}" = 1 ]; then exit 1; fi; \
		echo "cuda-tools: not installed; the CUDA checks skip"; }

# check-cuda: the embedded kernels are what nvcc builds from the sources
# today, no kernel spills registers (ptxas -v), and the gorgonia.org/cu
# binding (-tags cudacu) builds against the 11.8 headers and stub libcuda.
CUDA_ROOT := $(CURDIR)/.cuda/root
check-cuda: cuda-tools
	@if [ ! -x .cuda/bin/nvcc ]; then echo "check-cuda: skipped, no .cuda/bin/nvcc (make cuda-tools)"; exit 0; fi; \
	set -e; \
	NVCC=$(CURDIR)/.cuda/bin/nvcc ./internal/cuda/generate.sh; \
	git diff --exit-code -- internal/cuda/kernels.fatbin internal/cuda/kernels.sum || \
		{ echo "check-cuda: internal/cuda/kernels.fatbin is stale: run make generate and commit it"; exit 1; }; \
	$(GO) test -count=1 -run 'TestNoSpills|TestFatbin' ./internal/cuda; \
	CGO_CFLAGS="-I$(CUDA_ROOT)/usr/include -w" \
	CGO_LDFLAGS="-L$(CUDA_ROOT)/usr/lib/x86_64-linux-gnu/stubs" \
		sh -c '$(GO) vet -tags cudacu ./internal/cuda ./models/nn && $(GO) build -tags cudacu ./internal/cuda ./models/nn'

generate:
	$(GO) generate ./...

# gpu-build: what bench/gpu/check.sh runs on a GPU machine (no Go there):
# gpucheck and the test binaries of internal/cuda, models/nn and train,
# stripped, libstdc++ linked in, gzipped into build/gpu/ (the folder the
# device tool carries; about 20 MB).
GPU_LDFLAGS := -s -w -extldflags '-static-libstdc++ -static-libgcc'
gpu-build:
	@mkdir -p build/gpu && rm -f build/gpu/*.gz && set -e; \
	$(GO) build -ldflags="$(GPU_LDFLAGS)" -o build/gpu/gpucheck ./bench/gpu; \
	$(GO) test -c -ldflags="$(GPU_LDFLAGS)" -o build/gpu/cuda.test ./internal/cuda; \
	$(GO) test -c -ldflags="$(GPU_LDFLAGS)" -o build/gpu/nn.test ./models/nn; \
	$(GO) test -c -ldflags="$(GPU_LDFLAGS)" -o build/gpu/train.test ./train; \
	gzip -9f build/gpu/gpucheck build/gpu/*.test; ls -l build/gpu/*.gz

# gpu-check: gpu-build, then the same check on the emulated device here at
# tiny sizes (check.sh --dry-run, figures in build/gpu/out-dry/), then the
# command that runs it on a GPU (bench/gpu/README.md).
gpu-check: gpu-build
	./bench/gpu/check.sh --dry-run
	@echo "gpu-check: dry run done. On a GPU machine (device tool): command 'bash bench/gpu/check.sh', carry [\"build/gpu\"], timeout_s 420"

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

# gotests: Go's own test suite ($(go env GOROOT)/test, the "// run" files,
# top level and typeparam/) through the kernel's worker and through plain
# yaegi v0.16.1, counted side by side; kernel failures listed with reasons.
gotests: build
	$(GO) run ./bench/gotests -bin $(BIN)

bench-go:
	$(GO) test -run '^$$' -bench . -benchtime $(BENCHTIME) ./...

clean:
	rm -rf bin build
