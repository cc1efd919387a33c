#!/usr/bin/env bash
# Container smoke test: builds the image from the Dockerfile with podman/buildah (no Docker daemon,
# no registry: the Debian base images are made locally with debootstrap from the apt mirror this
# machine is configured with), then runs it and speaks HTTP to it on loopback.
#
#   1. localhost/debian:bookworm-slim and localhost/debian:bookworm: a debootstrap minbase root
#      file system, slimmed like the official -slim image, imported into podman (vfs storage).
#      Skipped when the images exist already (CORK_SMOKE_REBASE=1 makes them again).
#   2. podman build of the Dockerfile with those bases (the build stage runs the unit tests).
#   3. checks of the image's metadata and size (< 100 MB).
#   4. buildah run of the image's ENTRYPOINT + CMD (podman run cannot set rlimits on these
#      machines) with -p on a free port: 200 on /, 404 on a missing path, the process runs as
#      uid 10001, `cork --probe` run inside the image exits 0 (and 1 on a 404), access log on
#      stdout, SIGTERM ends it with status 0.
#   5. the same with a mounted configuration (/etc/cork) and document root (/srv/www).
#
# Needs root (or passwordless sudo) and Debian's podman, buildah and debootstrap, which it installs
# with apt-get when missing; when that is not possible it prints SKIP and exits 0. The container
# is removed at the end, also on failure. Prints the time of each step.
set -euo pipefail
cd "$(dirname "$0")/../.."

IMAGE=${CORK_SMOKE_IMAGE:-localhost/cork:latest}
BUILD_TAG=${IMAGE%:*}-build:latest
BASE=localhost/debian:bookworm
BASE_SLIM=localhost/debian:bookworm-slim
MAX_IMAGE_BYTES=$((100 * 1000 * 1000))
EXPECTED_UID=10001

skip() {
  echo "SKIP: docker smoke test: $*"
  exit 0
}
fail() {
  echo "FAIL: docker smoke test: $*" >&2
  exit 1
}

if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    exec sudo -n --preserve-env=CI,CORK_SMOKE_IMAGE,CORK_SMOKE_REBASE,CORK_DEBIAN_MIRROR \
      bash "$0" "$@"
  fi
  skip "needs root or passwordless sudo (podman with the vfs driver, debootstrap)"
fi

start_all=$SECONDS
timings=()
step_start=$SECONDS
step_done() {
  timings+=("$(printf '%-28s %5d s' "$1" $((SECONDS - step_start)))")
  echo "=== smoke: $1 done in $((SECONDS - step_start)) s"
  step_start=$SECONDS
}

# --- tools -------------------------------------------------------------------------------------
needed=()
for tool in podman:podman buildah:buildah debootstrap:debootstrap curl:curl; do
  command -v "${tool%%:*}" >/dev/null || needed+=("${tool##*:}")
done
if [ ${#needed[@]} -gt 0 ]; then
  echo "=== smoke: installing ${needed[*]}"
  if ! { apt-get update -qq &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      "${needed[@]}" debian-archive-keyring gpgv; }; then
    skip "cannot install ${needed[*]} with apt-get"
  fi
fi
for tool in podman buildah debootstrap curl; do
  command -v "$tool" >/dev/null || skip "$tool is not available"
done
step_done "tools"

PODMAN=(podman --storage-driver vfs)
BUILDAH=(buildah --storage-driver vfs)

work=$(mktemp -d /tmp/cork-smoke.XXXXXX)
chmod 755 "$work"
ctr=""
pids=()
cleanup() {
  local status=$?
  set +e
  for pid in "${pids[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then
      kill -TERM "$pid" 2>/dev/null
      sleep 1
      kill -KILL "$pid" 2>/dev/null
    fi
  done
  wait 2>/dev/null
  [ -n "$ctr" ] && "${BUILDAH[@]}" rm "$ctr" >/dev/null 2>&1
  rm -rf "$work"
  echo "=== smoke: wall time per step"
  for t in ${timings[@]+"${timings[@]}"}; do echo "  $t"; done
  echo "  total                        $((SECONDS - start_all)) s"
  [ $status = 0 ] && echo "docker smoke test: PASSED" || echo "docker smoke test: FAILED"
  exit $status
}
trap cleanup EXIT

# --- 1. local Debian base images ---------------------------------------------------------------
# The mirror apt uses here (deb822 .sources or a one-line sources.list), else deb.debian.org.
apt_uri() {  # $1: awk regex the URI must match, $2: one it must not
  {
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '$1 == "URIs:" {print $2}'
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      awk '$1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}'
  } | awk -v want="$1" -v not="$2" '$0 ~ want && $0 !~ not && !found {print; found = 1}' || true
}
MIRROR=${CORK_DEBIAN_MIRROR:-$(apt_uri '/debian/?$' 'security')}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=$(apt_uri 'debian-security/?$' '^$')
SECURITY_MIRROR=${SECURITY_MIRROR:-http://deb.debian.org/debian-security}

if [ "${CORK_SMOKE_REBASE:-0}" = 1 ] || ! "${PODMAN[@]}" image exists "$BASE_SLIM" ||
  ! "${PODMAN[@]}" image exists "$BASE"; then
  echo "=== smoke: debootstrap --variant=minbase bookworm from $MIRROR"
  rootfs="$work/rootfs"
  if ! debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >"$work/debootstrap.log" 2>&1; then
    tail -n 30 "$work/debootstrap.log"
    fail "debootstrap failed (log above)"
  fi
  # What the official -slim image does (debuerreotype): no docs, man pages or locales now or
  # from later installs, no downloaded package lists or archives, apt caches cleaned.
  cat >"$rootfs/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
EOF
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$rootfs/etc/apt/apt.conf.d/docker-no-languages"
  printf 'APT::AutoRemove::SuggestsImportant "false";\n' >"$rootfs/etc/apt/apt.conf.d/docker-autoremove-suggests"
  find "$rootfs/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/usr/share/{man,groff,info,lintian,linda}/* "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/tmp/* "$rootfs"/etc/resolv.conf "$rootfs"/etc/hostname
  find "$rootfs/usr/share/locale" -mindepth 1 -maxdepth 1 -not -name locale.alias -exec rm -rf {} +
  # The same sources as the official image (deb822), from this machine's mirrors.
  rm -f "$rootfs/etc/apt/sources.list"
  cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $MIRROR
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $SECURITY_MIRROR
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  tar -C "$rootfs" --numeric-owner -c . |
    "${PODMAN[@]}" import --change 'CMD ["bash"]' - "$BASE_SLIM" >/dev/null
  "${PODMAN[@]}" tag "$BASE_SLIM" "$BASE"
  rm -rf "$rootfs"
  step_done "base image (debootstrap)"
else
  echo "=== smoke: $BASE_SLIM exists, no debootstrap"
  step_done "base image (cached)"
fi

# --- 2. build ----------------------------------------------------------------------------------
# --format docker keeps HEALTHCHECK (the OCI image format has no field for it). The build stage
# is tagged too (BUILD_TAG), so that its layers (compilers, the compiled tree) stay cached across
# runs; images of earlier runs lose their tags and are pruned, so that repeated runs on the same
# machine do not fill the disk (vfs stores every layer as a full copy).
build=("${PODMAN[@]}" build --isolation chroot --network host --format docker --pull=never --force-rm
  --build-arg BUILD_IMAGE="$BASE" --build-arg RUNTIME_IMAGE="$BASE_SLIM")
echo "=== smoke: podman build --target build -t $BUILD_TAG ."
"${build[@]}" --target build -t "$BUILD_TAG" .
echo "=== smoke: podman build -t $IMAGE ."
"${build[@]}" -t "$IMAGE" .
"${PODMAN[@]}" image prune -f >/dev/null || true
step_done "podman build"

# --- 3. image metadata -------------------------------------------------------------------------
inspect() { "${PODMAN[@]}" image inspect --format "$1" "$IMAGE"; }
size=$(inspect '{{.Size}}')
echo "=== smoke: image size $size bytes ($((size / 1000000)) MB)"
[ "$size" -lt $MAX_IMAGE_BYTES ] || fail "image is $size bytes, more than $MAX_IMAGE_BYTES"
user=$(inspect '{{.Config.User}}')
[ "${user%%:*}" = $EXPECTED_UID ] || fail "image user is '$user', not $EXPECTED_UID"
# shellcheck disable=SC2016  # a Go template, not a shell expansion
ports=$(inspect '{{range $p, $v := .Config.ExposedPorts}}{{$p}} {{end}}')
[[ " $ports " == *" 8080/tcp "* ]] || fail "image does not expose 8080/tcp: '$ports'"
stop_signal=$(inspect '{{.Config.StopSignal}}')
[ "$stop_signal" = SIGTERM ] || fail "stop signal is '$stop_signal', not SIGTERM"
# ["CMD", "/usr/local/bin/cork", "--probe", "http://127.0.0.1:8080/"]
mapfile -t health < <(inspect '{{if .HealthCheck}}{{range .HealthCheck.Test}}{{.}}{{"\n"}}{{end}}{{end}}')
[ "${health[*]}" = "CMD /usr/local/bin/cork --probe http://127.0.0.1:8080/" ] ||
  fail "HEALTHCHECK is '${health[*]}', not the --probe of port 8080"
probe=("${health[@]:1:2}")  # the health check's command without its URL
mapfile -t entrypoint < <(inspect '{{range .Config.Entrypoint}}{{.}}{{"\n"}}{{end}}')
mapfile -t cmd < <(inspect '{{range .Config.Cmd}}{{.}}{{"\n"}}{{end}}')
[ ${#entrypoint[@]} -gt 0 ] || fail "the image has no ENTRYPOINT"
echo "=== smoke: user $user, ports $ports, stop signal $stop_signal, health check: ${health[*]}"
echo "=== smoke: entrypoint ${entrypoint[*]}, cmd ${cmd[*]}"
step_done "image checks"

# --- 4./5. run ---------------------------------------------------------------------------------
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 20000))
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null || {
      echo "$port"
      return
    }
  done
  fail "no free port found"
}

# The cork process under a background `buildah run` (chroot isolation: same PID namespace).
ppid_of() {
  local line
  { line=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  line=${line##*) }  # after "pid (comm) "
  # shellcheck disable=SC2086  # split into fields on purpose: state ppid ...
  set -- $line
  echo "$2"
}
find_cork() {  # $1: the buildah run pid
  local stat line p
  for stat in /proc/[0-9]*/stat; do
    { line=$(<"$stat"); } 2>/dev/null || continue
    [[ "$line" == *" (cork) "* ]] || continue
    p=${line%% *}
    while [ "$p" -gt 1 ]; do
      p=$(ppid_of "$p") || break
      if [ "$p" = "$1" ]; then
        echo "${line%% *}"
        return 0
      fi
    done
  done
  return 1
}

# start_cork NAME PORT [buildah run options...] -- ARGS...: starts the image in the background;
# sets cork_pid and runner_pid, waits until the port answers.
start_cork() {
  local name=$1 port=$2
  shift 2
  local opts=()
  while [ "$1" != -- ]; do
    opts+=("$1")
    shift
  done
  shift
  "${BUILDAH[@]}" run --isolation chroot --network host "${opts[@]}" "$ctr" -- "$@" \
    >"$work/$name.out" 2>"$work/$name.err" &
  runner_pid=$!
  pids+=("$runner_pid")
  cork_pid=""
  for _ in $(seq 300); do
    if ! kill -0 "$runner_pid" 2>/dev/null; then
      cat "$work/$name.err" >&2
      fail "$name: the container exited before it answered"
    fi
    [ -n "$cork_pid" ] || cork_pid=$(find_cork "$runner_pid" || true)
    if [ -n "$cork_pid" ] && curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
      pids+=("$cork_pid")
      return 0
    fi
    sleep 0.1
  done
  cat "$work/$name.err" >&2
  fail "$name: nothing answers on port $port after 30 s"
}

status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }

stop_cork() {  # $1: name
  kill -TERM "$cork_pid"
  local status=0
  wait "$runner_pid" || status=$?
  [ $status = 0 ] || {
    cat "$work/$1.err" >&2
    fail "$1: exit status $status after SIGTERM, not 0"
  }
  grep -q 'stopped' "$work/$1.err" || fail "$1: no 'stopped' line on stderr after SIGTERM"
}

ctr=$("${BUILDAH[@]}" from --pull-never "$IMAGE")

# 4. The image as it is, with only the port changed.
port=$(free_port)
echo "=== smoke: ${entrypoint[*]} ${cmd[*]} -p $port"
start_cork default "$port" -- "${entrypoint[@]}" "${cmd[@]}" -p "$port"
code=$(status_of "http://127.0.0.1:$port/")
[ "$code" = 200 ] || fail "GET / answered $code, not 200"
"${BUILDAH[@]}" run --isolation chroot "$ctr" -- cat /srv/www/index.html >"$work/index.html"
curl -s --max-time 5 "http://127.0.0.1:$port/" | cmp -s - "$work/index.html" ||
  fail "GET / is not the image's /srv/www/index.html"
code=$(status_of "http://127.0.0.1:$port/no-such-file")
[ "$code" = 404 ] || fail "GET /no-such-file answered $code, not 404"
uids=$(awk '$1 == "Uid:" {print $2, $3, $4, $5}' "/proc/$cork_pid/status")
[ "$uids" = "$EXPECTED_UID $EXPECTED_UID $EXPECTED_UID $EXPECTED_UID" ] ||
  fail "cork (pid $cork_pid) runs with uids '$uids', not $EXPECTED_UID"
echo "=== smoke: cork pid $cork_pid runs as uid $EXPECTED_UID ($(awk '$1 == "Gid:" {print "gid " $2}' "/proc/$cork_pid/status"))"
"${BUILDAH[@]}" run --isolation chroot --network host "$ctr" -- "${probe[@]}" "http://127.0.0.1:$port/" ||
  fail "${probe[*]} http://127.0.0.1:$port/ exited $? inside the image"
probe_status=0
"${BUILDAH[@]}" run --isolation chroot --network host "$ctr" -- \
  "${probe[@]}" "http://127.0.0.1:$port/no-such-file" 2>"$work/probe.err" || probe_status=$?
[ $probe_status = 1 ] || fail "--probe of a 404 exited $probe_status, not 1"
grep -q 'status 404' "$work/probe.err" || fail "--probe of a 404 said: $(cat "$work/probe.err")"
grep -q '"GET / HTTP/1.1" 200' "$work/default.out" || fail "no access log line on stdout"
grep -q 'cork-probe' "$work/default.out" || fail "the probe's request is not in the access log"
stop_cork default
echo "=== smoke: bundled config and site: 200, 404, uid $EXPECTED_UID, --probe 0/1, logs, SIGTERM ok"
step_done "run (bundled config)"

# 5. A mounted configuration and document root, as the README shows for docker run.
port=$(free_port)
mkdir -m 755 "$work/etc" "$work/site"
sed -e "s|^port = .*|port = $port|" -e 's|^root = .*|root = /srv/www|' conf/cork.ini \
  >"$work/etc/cork.ini"
echo "hello from a mounted volume" >"$work/site/hello.txt"
chmod 644 "$work/etc/cork.ini" "$work/site/hello.txt"
start_cork mounted "$port" -v "$work/etc:/etc/cork:ro" -v "$work/site:/srv/www:ro" -- \
  "${entrypoint[@]}" "${cmd[@]}"
body=$(curl -s --max-time 5 "http://127.0.0.1:$port/hello.txt")
[ "$body" = "hello from a mounted volume" ] || fail "GET /hello.txt from the mounted root: '$body'"
code=$(status_of "http://127.0.0.1:$port/index.html")
[ "$code" = 404 ] || fail "the bundled site is still served with a mounted root ($code)"
stop_cork mounted
echo "=== smoke: mounted /etc/cork and /srv/www ok"
step_done "run (mounted config, root)"
