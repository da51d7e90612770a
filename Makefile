# Hanse -- the two commands: `make run` and `make test`.
# CMake does the building; this file installs what is missing and drives it.

JOBS ?= $(shell nproc)
PORT ?= 8080
DATA ?= data
CTEST_ARGS ?= --output-on-failure

.PHONY: all deps deps-test deps-bench build run demo demo-cluster test test-unit test-asan test-fuzz \
        bench clean format

all: build

deps:
	@scripts/deps.sh build

deps-test:
	@scripts/deps.sh test

deps-bench:
	@scripts/deps.sh bench

build: deps
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build build -j $(JOBS)

# Start the demo node with its explorer: three chains in $(DATA) (created on
# first run, reused after) -- "alliance" (six organisations; public blocks,
# contents by role), "open" (anyone) and "private-acme" (one enterprise and
# its departments) -- each with a short workload; http://127.0.0.1:$(PORT)/.
run: build
	@build/hanse demo --data $(DATA) --port $(PORT)

demo: run

# The alliance chain on a cluster of three node processes (Raft) in
# $(DATA)/node1..3, API ports $(PORT)..$(PORT)+2, Raft ports $(PORT)+1000..;
# each node's explorer shows the cluster. Ctrl-C stops all three. Rerun
# with the same PORT: the Raft log keeps the member list.
demo-cluster: build
	@build/hanse demo --nodes 3 --data $(DATA) --port $(PORT)

# Everything: unit, integration and browser tests; the same under
# ASan+UBSan; a short libFuzzer run of every decoder.
test: deps-test build
	@cd build && ctest $(CTEST_ARGS) -j 2 -LE 'slow|fuzz'
	@cd build && ctest $(CTEST_ARGS) -L slow
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-fuzz
	@echo "make test: all suites passed"

test-unit: build
	@cd build && ctest $(CTEST_ARGS) -L unit

test-asan: deps-test
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHANSE_SANITIZE=ON \
	  -DHANSE_BROWSER_TESTS=OFF >/dev/null
	@cmake --build build-asan -j $(JOBS)
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest $(CTEST_ARGS) -j 2 -L 'unit|integration' -LE browser

test-fuzz: deps-test
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DHANSE_FUZZ=ON \
	  -DHANSE_BROWSER_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS)
	@cd build-fuzz && ctest $(CTEST_ARGS) -L fuzz

# What one node and a cluster do on this machine, each figure beside a
# baseline measured in the same run (docs/ARCHITECTURE.md, "Benchmarks").
bench: deps-bench build
	@build/bench/hanse_bench
	@build/bench/hanse_bench --cluster
	@build/bench/hanse_bench --trace
	@build/bench/hanse_bench --ledger

clean:
	rm -rf build build-asan build-fuzz
