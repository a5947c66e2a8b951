# ELASTIC TEE HAL - top-level Makefile (CMake does the building).
#
#   make          build everything into build/ (the CLI is build/elastic-hal)
#   make demo     install what is missing, build, run the hello example
#   make deploy-demo  the same, then run the example deployment (examples/deploy/)
#   make check    install what is missing, build, run every test (also
#                 under AddressSanitizer + UndefinedBehaviorSanitizer)
#   make bench    run the benchmarks (BENCH_FS="SEQ_MIB NFILES": a smaller
#                 file system run than 1024 MiB and 10000 files)
#   make fuzz     fuzz the readers of untrusted modules (FUZZ_SECONDS=600)
#   make install  install the library, headers, pkg-config file and CLI
#                 (PREFIX=/usr/local, DESTDIR supported)

BUILD   ?= build
ASAN    ?= build-asan
PREFIX  ?= /usr/local
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all setup demo deploy-demo check check-fast check-asan bench fuzz install clean format

all: $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS)

$(BUILD)/CMakeCache.txt:
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null

setup:
	@tools/setup.sh

demo: setup all
	@echo "== elastic-hal run build/guests/hello.wasm (simulated platform)"
	@$(BUILD)/elastic-hal run --state-dir $(BUILD)/demo-state $(BUILD)/guests/hello.wasm

deploy-demo: setup all
	@echo "== elastic-hal serve build/guests/deploy.json (simulated platform)"
	@rm -rf $(BUILD)/deploy-logs
	@$(BUILD)/elastic-hal serve --state-dir $(BUILD)/demo-state --log-dir $(BUILD)/deploy-logs \
	  $(BUILD)/guests/deploy.json; rc=$$?; \
	  for w in sensor aggregator store; do echo "== $$w.log"; cat $(BUILD)/deploy-logs/$$w.log; done; \
	  exit $$rc

check: 
	@tools/setup.sh --tests
	@$(MAKE) --no-print-directory all
	@cmake -S . -B $(ASAN) -DCMAKE_BUILD_TYPE=Debug -DEHAL_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN) -j$(JOBS)
	@tests/run.sh $(BUILD) $(ASAN)

check-fast: all
	@tests/run.sh $(BUILD)

bench: setup all
	@$(BUILD)/bench/elastic-hal-bench
	@$(BUILD)/bench/elastic-hal-bench-crypto
	@$(BUILD)/bench/elastic-hal-bench-storage
	@$(BUILD)/bench/elastic-hal-bench-fs $(BENCH_FS)
	@$(BUILD)/bench/elastic-hal-bench-net
	@$(BUILD)/bench/elastic-hal-bench-gpu
	@$(BUILD)/bench/elastic-hal-bench-deploy
	@$(BUILD)/bench/elastic-hal-bench-firstrun $(BENCH_FIRSTRUN)

FUZZ_SECONDS ?= 600
fuzz: all
	@BUILD=$(BUILD) tests/fuzz/run.sh $(FUZZ_SECONDS)

install: all
	@DESTDIR=$(DESTDIR) cmake --install $(BUILD) --prefix $(PREFIX)

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	@rm -rf $(BUILD) $(ASAN)
