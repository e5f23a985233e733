# Thin wrapper over CMake. `make demo` and `make test` install what is missing first.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local

.PHONY: all deps build test demo bench bench-batch install clean

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build
	cd $(BUILD_DIR) && ctest -j $(JOBS) --output-on-failure --timeout 180

demo: build
	@./examples/demo.sh $(BUILD_DIR)/bin

bench: build
	@./scripts/install-deps.sh --bench
	@./bench/run.sh $(BUILD_DIR)/bin

# The streaming batch tools: a generated 1 GB HAR through gostly-seed, two 1M-interaction
# sessions through gostly-drift (throughput and peak memory; a few minutes, ~3 GB in /tmp).
bench-batch: build
	@./scripts/install-deps.sh --bench
	@./bench/seed-har.sh $(BUILD_DIR)/bin
	@./bench/drift-check.sh $(BUILD_DIR)

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR)
