# cork: the two commands a user needs are `make run` and `make test`.
# Both install what is missing from Debian's archive first (with sudo when not root).

BUILD_DIR ?= build
BUILD_TYPE ?= Release
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
# Packages needed to build and test cork (curl is used by the integration tests).
DEPS := cmake make g++ libfmt-dev libinih-dev libgtest-dev node-llhttp curl ca-certificates
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: all deps build run test check-format format clean

all: build

deps:
	@missing=""; for p in $(DEPS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

build: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) $(CMAKE_FLAGS)
	cmake --build $(BUILD_DIR) -j $(JOBS)

run: build
	./$(BUILD_DIR)/cork -c conf/cork.ini

test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) --timeout 600

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD_DIR)

# `make bench`: cork against nginx, lighttpd and h2o on loopback (tests/bench/compare.py, about
# 8 minutes; BENCH_SECONDS, BENCH_ROUNDS, BENCH_SERVERS, BENCH_SCENARIOS choose the runs); writes
# tests/bench/results/latest.{md,png,json}. `make bench BENCH_ARGS=--syscalls`: syscalls per
# request of cork and nginx under strace.
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
