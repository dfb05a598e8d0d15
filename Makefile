# unetlab: `make lab` to start working, `make test` for everything CI runs.
GO      ?= go
BIN     := bin/unetlab
PYTHON  ?= /usr/bin/python3
export UNETLAB_SCALE ?= laptop

.PHONY: all build lab test unit integration deps-test generate check-generated bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/unetlab

# lab: build, install the kernelspec for this user, install Jupyter where it
# is missing, start Jupyter on notebooks/.
lab: build
	./install/jupyter.sh
	./$(BIN) install --user
	cd notebooks && jupyter lab 2>/dev/null || cd notebooks && jupyter notebook

# test: everything CI runs.
test: build deps-test unit integration

unit:
	$(GO) vet ./...
	$(GO) test -count=1 ./...

integration: build
	UNETLAB_SCALE=smoke ./kernel/testdata/integration.sh

deps-test:
	./install/test-deps.sh

generate:
	$(GO) generate ./...

bench: build
	./bench/run.sh

clean:
	rm -rf bin
