# Placeholder: the deployment issue owns the real multi-stage image (build + tests, then a
# bookworm-slim runtime running as a non-root user). This minimal version builds and runs cork.
FROM debian:bookworm
RUN apt-get update && apt-get install -y --no-install-recommends \
      cmake make g++ libfmt-dev libinih-dev libgtest-dev node-llhttp curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
RUN make build BUILD_DIR=/build
EXPOSE 8080
CMD ["/build/cork", "-c", "conf/cork.ini"]
