# cork container image: two stages on Debian 12 (bookworm).
#
#   build    debian:bookworm + the -dev packages: compiles cork (Release) and runs the unit tests
#            (pool_tests, http_tests, server_tests); a failing test fails the image build.
#   runtime  debian:bookworm-slim + the two runtime libraries (libfmt9, libinih1), the stripped
#            binary, /etc/cork/cork.ini and /srv/www. Runs as the unprivileged user cork (10001).
#
# The integration tests (tests/integration/) are not run here: they start many cork processes on
# loopback, need wrk, slowhttptest and curl, drop privileges to nobody and take minutes; they run
# in CI (`make test`) on the same sources. The base images are build arguments so that a machine
# without registry access can build from local images (tests/docker/smoke.sh passes
# localhost/debian:bookworm{,-slim} made with debootstrap); `docker build -t cork .` uses the
# official images.
ARG BUILD_IMAGE=debian:bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILD_IMAGE} AS build
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
         cmake make g++ libfmt-dev libinih-dev libgtest-dev node-llhttp \
         zlib1g-dev libbrotli-dev libzstd-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the build reads (see also .dockerignore), so that editing the README or the deploy
# files does not invalidate the compile layer.
COPY CMakeLists.txt ./
COPY pool/ pool/
COPY http/ http/
COPY server/ server/
COPY tests/ tests/
# The unit tests read the shipped configuration (it must state the defaults).
COPY conf/ conf/
# One layer: compile, run the unit tests (a failure stops the build), stage the stripped binary.
RUN cmake -S . -B /build -DCMAKE_BUILD_TYPE=Release -DCORK_WERROR=ON \
    && cmake --build /build -j "$(nproc)" --target cork pool_tests http_tests server_tests \
    && /build/tests/pool_tests --gtest_brief=1 \
    && /build/tests/http_tests --gtest_brief=1 \
    && /build/tests/server_tests --gtest_brief=1 \
    && install -D -s -m 0755 /build/cork /out/usr/local/bin/cork \
    && /out/usr/local/bin/cork --version

FROM ${RUNTIME_IMAGE} AS runtime
# libstdc++6 and libc6 are part of every Debian base; cork links libfmt and libinih besides.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libfmt9 libinih1 \
         zlib1g libbrotli1 libzstd1 \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /var/log/apt /var/log/dpkg.log \
    && groupadd --system --gid 10001 cork \
    && useradd --system --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home \
         --shell /usr/sbin/nologin cork
COPY --from=build /out/ /
COPY conf/cork.ini /etc/cork/cork.ini
COPY www/ /srv/www/
# The repository's default configuration with the root at /srv/www. Everything stays owned by
# root and read-only for cork. The build fails if cork cannot run here (a missing shared
# library) or the configuration does not validate.
RUN sed -i 's|^root = .*|root = /srv/www|' /etc/cork/cork.ini \
    && grep -q '^root = /srv/www$' /etc/cork/cork.ini \
    && chmod -R a+rX /etc/cork /srv/www \
    && cork --check -c /etc/cork/cork.ini

# /etc/cork (the configuration) and /srv/www (the document root) are meant to be bind-mounted or
# mounted as volumes; they are not declared with VOLUME so that a plain `docker run` does not
# leave an anonymous volume behind. A relative root in a mounted cork.ini resolves against /srv.
WORKDIR /srv
USER 10001:10001
EXPOSE 8080
# cork drains in-flight responses for up to 10 s on SIGTERM; keep `docker stop -t` above that.
STOPSIGNAL SIGTERM
# The probe needs no shell and no curl; it must name the port the configuration listens on.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 \
  CMD ["/usr/local/bin/cork", "--probe", "http://127.0.0.1:8080/"]
# Logs go to stdout (access log) and stderr (everything else), as the bundled config says.
ENTRYPOINT ["/usr/local/bin/cork"]
CMD ["-c", "/etc/cork/cork.ini"]
