# cork: the two commands a user needs are `make run` and `make test`.
# Both install what is missing from Debian's archive first (with sudo when not root).
# CI (.ci/run) also runs `make check-format`, tests/docker/smoke.sh, `make test-asan`,
# `make test-tsan` and `make fuzz`.

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# Packages needed to build and run cork (the build includes the unit tests: libgtest-dev).
DEPS := cmake make g++ libfmt-dev libinih-dev libgtest-dev node-llhttp zlib1g-dev libbrotli-dev \
  libzstd-dev curl ca-certificates
# Also needed by the test suite: curl, wrk (load), slowhttptest (slowloris), gzip
# (precompressed files), procps (ps/pgrep to inspect the server process), valgrind (memcheck
# test), chromium (the bundled site in a headless browser), zsync (the real zsync client
# against multipart/byteranges), brotli and zstd (their command-line decoders check
# compressed bodies), python3 (its gzip module does too).
TEST_DEPS := wrk slowhttptest gzip procps valgrind chromium zsync brotli zstd python3
# Sanitizer builds: g++ brings libasan/libubsan/libtsan; llvm brings llvm-symbolizer, which
# turns the addresses in a report into function, file and line.
SANITIZER_DEPS := llvm
# `make fuzz`: clang with libFuzzer (libclang_rt.fuzzer is in libclang-rt-14-dev).
FUZZ_DEPS := clang libclang-rt-14-dev llvm
# `make format` and `make check-format`: clang-format with the root .clang-format.
FORMAT_DEPS := clang-format
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# Sanitizer builds: warnings as errors, line numbers in reports, and any report fails the run.
# Every process (the test binaries and the cork children the integration tests start) writes
# its reports to $(dir)/sanitizer-reports/report.<pid>; a report in a child whose exit status
# no test looks at would otherwise go unnoticed, so the run fails if that folder is not empty.
SAN_BUILD_TYPE ?= RelWithDebInfo
SAN_CMAKE_FLAGS = -DCMAKE_BUILD_TYPE=$(SAN_BUILD_TYPE) -DCORK_WERROR=ON $(CMAKE_FLAGS)
ASAN_DIR ?= build-asan
TSAN_DIR ?= build-tsan
# ctest arguments for the ThreadSanitizer run (all tests by default; e.g. -R 'pool|integration').
TSAN_CTEST_ARGS ?=

# `make fuzz`: a clang build in FUZZ_DIR; each target runs FUZZ_SECONDS on top of its seed corpus.
FUZZ_DIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := request_fuzzer range_fuzzer

.PHONY: all deps test-deps build run test test-asan test-tsan fuzz check-format format clean

all: build

# $(call apt_install,PACKAGES): installs those of PACKAGES that are not installed yet.
define apt_install
	@missing=""; for p in $(1); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

# $(call cmake_build,DIR,CMAKE ARGUMENTS): configures and builds everything in DIR.
define cmake_build
	cmake -S . -B $(1) $(2)
	cmake --build $(1) -j $(JOBS)
endef

# $(call sanitizer_ctest,DIR,CTEST ARGUMENTS): runs ctest in DIR with the sanitizer options
# below, then fails if any process left a report.
define sanitizer_ctest
	rm -rf $(1)/sanitizer-reports && mkdir -p $(1)/sanitizer-reports
	@reports="$(abspath $(1))/sanitizer-reports"; status=0; found=0; \
	cd $(1) && \
	  ASAN_OPTIONS="halt_on_error=1:abort_on_error=1:detect_leaks=1:log_path=$$reports/report" \
	  UBSAN_OPTIONS="halt_on_error=1:abort_on_error=1:print_stacktrace=1:log_path=$$reports/report" \
	  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 log_path=$$reports/report" \
	  ctest --output-on-failure --no-tests=error -j $(JOBS) --timeout 900 $(2) || status=$$?; \
	for f in "$$reports"/report*; do \
	  [ -e "$$f" ] || continue; echo "=== sanitizer report $$f"; cat "$$f"; found=$$((found + 1)); \
	done; \
	echo "$$found sanitizer report(s) in $$reports; ctest exit status $$status"; \
	[ $$status = 0 ] && [ $$found = 0 ]
endef

deps:
	$(call apt_install,$(DEPS))

test-deps:
	$(call apt_install,$(DEPS) $(TEST_DEPS))

build: deps
	$(call cmake_build,$(BUILD_DIR),-DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS))

run: build
	./$(BUILD_DIR)/cork -c conf/cork.ini

test: test-deps
	$(call cmake_build,$(BUILD_DIR),-DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS))
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

# AddressSanitizer + UndefinedBehaviorSanitizer (and LeakSanitizer at exit), the whole suite;
# the integration tests exec the instrumented cork of the same build.
test-asan:
	$(call apt_install,$(DEPS) $(TEST_DEPS) $(SANITIZER_DEPS))
	$(call cmake_build,$(ASAN_DIR),$(SAN_CMAKE_FLAGS) -DCORK_SANITIZE=address)
	$(call sanitizer_ctest,$(ASAN_DIR),)

# ThreadSanitizer: data races and lock-order inversions in the test binaries and in cork.
test-tsan:
	$(call apt_install,$(DEPS) $(TEST_DEPS) $(SANITIZER_DEPS))
	$(call cmake_build,$(TSAN_DIR),$(SAN_CMAKE_FLAGS) -DCORK_SANITIZE=thread)
	$(call sanitizer_ctest,$(TSAN_DIR),$(TSAN_CTEST_ARGS))

# libFuzzer with address+undefined: replays the seed corpus, then fuzzes each target for
# FUZZ_SECONDS. New inputs go to a temporary folder, never into tests/fuzz/corpus/; a crashing
# input is kept as $(FUZZ_DIR)/artifacts/<target>-crash-<sha1> (reproduce: run the target on it;
# add it to the corpus with the fix).
fuzz:
	$(call apt_install,$(DEPS) $(FUZZ_DEPS))
	cmake -S . -B $(FUZZ_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_CXX_COMPILER=clang++ -DCORK_FUZZ=ON $(CMAKE_FLAGS)
	cmake --build $(FUZZ_DIR) -j $(JOBS) --target $(FUZZ_TARGETS) $(FUZZ_TARGETS:=_replay)
	cd $(FUZZ_DIR) && ctest --output-on-failure --no-tests=error -R '^fuzz_replay\.'
	@mkdir -p $(FUZZ_DIR)/artifacts; \
	work=$$(mktemp -d); trap 'rm -rf "$$work"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
	  echo "=== fuzzing $$t for $(FUZZ_SECONDS) s"; mkdir -p "$$work/$$t"; \
	  $(FUZZ_DIR)/tests/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	    -dict=tests/fuzz/$$t.dict -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t- -print_final_stats=1 \
	    "$$work/$$t" tests/fuzz/corpus/$$t > "$$work/$$t.log" 2>&1; status=$$?; \
	  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|new_units_added)' \
	    "$$work/$$t.log"; \
	  if [ $$status != 0 ]; then \
	    echo "=== $$t FAILED (exit $$status); last lines of its log:"; tail -n 80 "$$work/$$t.log"; \
	    exit 1; \
	  fi; \
	done

format:
	$(call apt_install,$(FORMAT_DEPS))
	clang-format -i $$(git ls-files '*.cc' '*.h')

check-format:
	$(call apt_install,$(FORMAT_DEPS))
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR) $(TSAN_DIR) $(FUZZ_DIR)

# `make bench`: cork against nginx, lighttpd (one process and one per core) and h2o on loopback
# (tests/bench/compare.py, about 25 minutes: 10 scenarios x 5 servers x 5 rounds of 5 s;
# BENCH_SECONDS, BENCH_ROUNDS, BENCH_SERVERS, BENCH_SCENARIOS choose the runs, see
# tests/bench/README.md); writes tests/bench/results/latest.{md,png,json}.
# `make bench BENCH_ARGS=--syscalls`: syscalls per request of cork and nginx under strace.
.PHONY: bench
bench: build
	@command -v python3 >/dev/null || { $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends python3; }
	python3 tests/bench/compare.py --cork $(BUILD_DIR)/cork $(BENCH_ARGS)

# `make docker-smoke`: builds the image with podman/buildah from local debootstrap bases and
# checks it on loopback (tests/docker/smoke.sh; installs podman, buildah and debootstrap; root).
.PHONY: docker-smoke
docker-smoke:
	bash tests/docker/smoke.sh
