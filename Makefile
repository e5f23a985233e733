# Thin wrapper over CMake. `make demo` and `make test` install what is missing first.
BUILD_DIR ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
PREFIX ?= /usr/local
# The fuzz targets: clang, libFuzzer, ASan + UBSan, -O1 with asserts on (fuzz/README.md).
FUZZ_BUILD_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
# `make test` replays the fuzz corpora under the sanitizers; FUZZ_REPLAY=0 leaves it out
# (the `fuzz-regress:` tests then report skipped). macOS's Apple clang has no libFuzzer.
FUZZ_REPLAY ?= $(if $(filter Darwin,$(shell uname -s)),0,1)

.PHONY: all deps build test demo bench bench-tls bench-store bench-batch install clean fuzz fuzz-build

all: build

deps:
	@./scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DGOSTLY_FUZZ_BUILD_DIR=$(abspath $(FUZZ_BUILD_DIR)) $(CMAKE_FLAGS)

build: deps $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR) -j $(JOBS)

test: build $(if $(filter 1,$(FUZZ_REPLAY)),fuzz-build)
	cd $(BUILD_DIR) && ctest -j $(JOBS) --output-on-failure --timeout 180

demo: build
	@./examples/demo.sh $(BUILD_DIR)/bin

bench: build
	@./scripts/install-deps.sh --bench
	@./bench/run.sh $(BUILD_DIR)/bin
	@./bench/tls.sh $(BUILD_DIR)/bin
	@./bench/store.sh $(BUILD_DIR)/bin

# Only the TLS runs of `make bench` (bench/tls.sh: MOCK on --tls-listen against nginx ssl).
bench-tls: build
	@./scripts/install-deps.sh --bench
	@./bench/tls.sh $(BUILD_DIR)/bin

# Only the store runs of `make bench` (bench/store.sh: PostgreSQL against SQLite, 100k recordings;
# BENCH_STORE_1M=1 adds 1M).
bench-store: build
	@./scripts/install-deps.sh --bench
	@./bench/store.sh $(BUILD_DIR)/bin

# The streaming batch tools: a generated 1 GB HAR through gostly-seed, two 1M-interaction
# sessions through gostly-drift (throughput and peak memory; a few minutes, ~3 GB in /tmp).
bench-batch: build
	@./scripts/install-deps.sh --bench
	@./bench/seed-har.sh $(BUILD_DIR)/bin
	@./bench/drift-check.sh $(BUILD_DIR)

$(FUZZ_BUILD_DIR)/build.ninja:
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -gline-tables-only" -DGOSTLY_FUZZ=ON \
	  "-DGOSTLY_SANITIZE=address;undefined" -DBUILD_TESTING=OFF $(CMAKE_FLAGS)

# Only the fuzz targets and the library parts they use; not the tools or the tests.
fuzz-build: deps $(FUZZ_BUILD_DIR)/build.ninja
	cmake --build $(FUZZ_BUILD_DIR) -j $(JOBS) --target gostly_fuzzers

# Each fuzz target for FUZZ_SECONDS; new crashes go to fuzz/regressions/<target>/.
fuzz: fuzz-build
	FUZZ_SECONDS=$(FUZZ_SECONDS) ./fuzz/run.sh $(FUZZ_BUILD_DIR)

install: build
	cmake --install $(BUILD_DIR) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD_DIR) $(FUZZ_BUILD_DIR)
