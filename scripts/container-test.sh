#!/usr/bin/env bash
# The container test (part of `make test`): build the image on a Debian-built base, run it, and run
# the compose stack's PostgreSQL variant as two API nodes, all with podman and no image registry.
#
#  1. a base image from Debian packages (mmdebstrap bookworm: python3 3.11, venv, ca-certificates),
#     `podman import`ed as localhost/faceprint-debian-python:bookworm;
#  2. our Dockerfile on it (--build-arg BASE=...), and PostgreSQL from Debian's postgresql
#     (scripts/container/postgres.Containerfile), built side by side;
#  3. one container: cold start to /ready, a key made with `podman exec`, /facepp/v3/detect and
#     /compare over loopback with real photos, HEALTHCHECK healthy, `faceprint compare` with no
#     network at all (nothing is downloaded at start), stop;
#  4. PostgreSQL plus two API containers on it, wired as in compose.yaml (FACEPRINT_STORE without a
#     password, PGPASSWORD_FILE = PostgreSQL's POSTGRES_PASSWORD_FILE): node A enrols, B finds the face.
#
# podman's stderr goes to a log shown on failure: without systemd it complains at every start and
# stop that it cannot add a healthcheck timer (the test runs the check itself).
# Sandbox facts, kept here and not in the image: raising rlimits is not permitted (hence the
# --ulimit flags), --network host avoids needing a bridge, and crun refuses hybrid cgroups (runc
# is used when crun cannot start a container).
#
# When podman cannot be installed or cannot run a container, this FAILS and says why: a container
# test that silently skips tests nothing. FACEPRINT_CONTAINER_TEST=skip (set by a person, for a
# machine that genuinely cannot run containers, e.g. an unprivileged CI container) skips it loudly.
# Caching is only an optimisation: the base image is reused for 7 days and podman's layer cache
# reuses the dependency layer; FACEPRINT_CONTAINER_REBUILD=1 starts from nothing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
HERE="$ROOT/scripts/container"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
case "$PY" in */*) PY="$(realpath -s "$PY")" ;; esac  # a relative PYTHON= still works after a cd (not resolving the venv's symlink)
BASE_IMAGE=localhost/faceprint-debian-python:bookworm
IMAGE=localhost/faceprint:test
PG_IMAGE=localhost/faceprint-postgres:test
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
RUN_FLAGS=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024 --network host)
TAG="fp-ct-$$"
START=$SECONDS
say() { printf 'container-test [%3ds]: %s\n' $((SECONDS - START)) "$*"; }
die() { say "FAILED: $*" >&2; exit 1; }

if [ "${FACEPRINT_CONTAINER_TEST:-}" = skip ]; then
  say "SKIPPED because FACEPRINT_CONTAINER_TEST=skip: the image, compose stack and multi-node test were NOT tested"
  exit 0
fi

# -- tools ---------------------------------------------------------------------------------------
need=()
command -v podman >/dev/null || need+=(podman)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v runc >/dev/null || need+=(runc)
if [ "${#need[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || die "needs ${need[*]} and there is no apt-get to install them; install them or set FACEPRINT_CONTAINER_TEST=skip"
  "$ROOT/scripts/apt-install.sh" "${need[@]}" || die "cannot install ${need[*]} from Debian (see above)"
fi
[ -x "$PY" ] || die "no Python with httpx at $PY (run make setup, or set PYTHON=)"
[ -s "$ROOT/.test-assets/biden.jpg" ] || (cd "$ROOT/tests" && "$PY" -c "import conftest; conftest.fetch_test_images()") \
  || die "cannot fetch the test photos into .test-assets/"

PODMAN=(podman)
WORK="$(mktemp -d)"
cleanup() {
  "${PODMAN[@]}" rm -f -t 2 "$TAG-one" "$TAG-a" "$TAG-b" "$TAG-pg" >/dev/null 2>&1 || true
  "${PODMAN[@]}" volume rm -f "$TAG-one" "$TAG-a" "$TAG-b" "$TAG-pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# Seconds until http://127.0.0.1:PORT/ready answers 200 (the container must keep running).
wait_ready() {
  local name=$1 port=$2 t0=$SECONDS
  until curl -fs -o /dev/null "http://127.0.0.1:$port/ready"; do
    [ "$("${PODMAN[@]}" inspect -f '{{.State.Running}}' "$name")" = true ] || { "${PODMAN[@]}" logs --tail 40 "$name" >&2; die "$name exited before /ready"; }
    [ $((SECONDS - t0)) -lt 300 ] || { "${PODMAN[@]}" logs --tail 40 "$name" >&2; die "$name not ready after 300 s"; }
    sleep 0.5
  done
  echo $((SECONDS - t0))
}

# -- 1. the Debian-built base --------------------------------------------------------------------
stamp="${XDG_CACHE_HOME:-$HOME/.cache}/faceprint/container/base.stamp"
if [ -n "${FACEPRINT_CONTAINER_REBUILD:-}" ] || ! "${PODMAN[@]}" image exists "$BASE_IMAGE" \
   || [ ! -f "$stamp" ] || [ -n "$(find "$stamp" -mtime +7)" ]; then
  say "mmdebstrap bookworm (python3, python3-venv, ca-certificates) from $MIRROR | podman import"
  # force-unsafe-io: no fsync per file for a throwaway build (most of mmdebstrap's time here)
  mmdebstrap --quiet --variant=minbase --include=python3,python3-venv,ca-certificates --dpkgopt=force-unsafe-io \
    bookworm - "$MIRROR" | "${PODMAN[@]}" import -q - "$BASE_IMAGE" >/dev/null \
    || die "mmdebstrap/podman import of the base failed"
  mkdir -p "$(dirname "$stamp")" && touch "$stamp"
else
  say "reusing $BASE_IMAGE (built $(stat -c %y "$stamp" | cut -d. -f1); FACEPRINT_CONTAINER_REBUILD=1 rebuilds)"
fi

# -- which OCI runtime can start a container here ----------------------------------------------
if ! podman run --rm "${RUN_FLAGS[@]}" "$BASE_IMAGE" true >/dev/null 2>"$WORK/probe.err"; then
  if grep -q "hybrid mode" "$WORK/probe.err" && podman --runtime runc run --rm "${RUN_FLAGS[@]}" "$BASE_IMAGE" true >/dev/null 2>&1; then
    PODMAN=(podman --runtime runc)
  else
    die "podman cannot start a container here: $(tail -c 600 "$WORK/probe.err")"
  fi
fi
say "podman $(podman version --format '{{.Client.Version}}'), runtime: $(if [ ${#PODMAN[@]} -gt 1 ]; then echo runc; else podman info --format '{{.Host.OCIRuntime.Name}}'; fi)"

# -- 2. our image and PostgreSQL, side by side ----------------------------------------------------
build=("${PODMAN[@]}" build -q --format docker "${RUN_FLAGS[@]}" --build-arg "BASE=$BASE_IMAGE")
[ -n "${FACEPRINT_CONTAINER_REBUILD:-}" ] && build+=(--no-cache)
ca="${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}"  # the host's trust store: pip also works behind a TLS-inspecting proxy
[ -r "$ca" ] && build+=(-v "$ca:/run/host-ca.crt:ro" --build-arg PIP_CERT=/run/host-ca.crt)
say "building $PG_IMAGE (Debian's postgresql-15) and $IMAGE (--build-arg BASE=$BASE_IMAGE)"
"${build[@]}" -t "$PG_IMAGE" -f "$HERE/postgres.Containerfile" "$HERE" >"$WORK/pg-build.log" 2>&1 &
pg_build=$!
t0=$SECONDS
"${build[@]}" -t "$IMAGE" "$ROOT" >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; die "building the image failed"; }
build_s=$((SECONDS - t0))
wait "$pg_build" || { tail -40 "$WORK/pg-build.log" >&2; die "building the PostgreSQL image failed"; }
size_mb=$(( $("${PODMAN[@]}" image inspect -f '{{.Size}}' "$IMAGE") / 1000000 ))
say "built $IMAGE in ${build_s}s: ${size_mb} MB"

# -- 3. one container ---------------------------------------------------------------------------
port=$(free_port)
"${PODMAN[@]}" volume create "$TAG-one" >/dev/null
"${PODMAN[@]}" run -d --name "$TAG-one" "${RUN_FLAGS[@]}" -e "FACEPRINT_PORT=$port" -v "$TAG-one:/data" "$IMAGE" >/dev/null 2>>"$WORK/podman.err" \
  || die "podman run: $(tail -5 "$WORK/podman.err")"
cold_s=$(wait_ready "$TAG-one" "$port")
say "cold start to /ready: ${cold_s}s"
[ "$("${PODMAN[@]}" exec "$TAG-one" id -u)" = 10001 ] || die "the service does not run as the faceprint user (uid 10001)"
key=$("${PODMAN[@]}" exec "$TAG-one" faceprint keys create --name ci --scopes detect,compare --json) || die "podman exec faceprint keys create failed"
"$PY" "$HERE/smoke.py" single "http://127.0.0.1:$port" "$key" || die "single-container checks"
"${PODMAN[@]}" healthcheck run "$TAG-one" >/dev/null 2>"$WORK/health.err" || die "HEALTHCHECK does not report healthy: $(cat "$WORK/health.err")"
[ "$("${PODMAN[@]}" inspect -f '{{.State.Health.Status}}' "$TAG-one")" = healthy ] || die "podman inspect does not say healthy"
say "  ok: HEALTHCHECK reports healthy (podman healthcheck run)"
"${PODMAN[@]}" stop -t 10 "$TAG-one" >/dev/null 2>>"$WORK/podman.err"
say "  ok: stopped"
"${PODMAN[@]}" run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024 -v "$ROOT/.test-assets:/photos:ro" \
  "$IMAGE" faceprint compare /photos/obama.jpg /photos/obama2.jpg >"$WORK/offline.log" 2>&1 \
  || { cat "$WORK/offline.log" >&2; die "faceprint compare with --network none (models must be inside the image)"; }
say "  ok: faceprint compare runs with --network none: the weights are inside the image"

# -- 4. the compose stack's PostgreSQL variant: two API nodes on one database --------------------
pg_port=$(free_port); port_a=$(free_port); port_b=$(free_port)
mkdir -p "$WORK/secrets"
pw="$("$PY" -c 'import secrets; print(secrets.token_hex(16))')"
printf '%s\n' "$pw" >"$WORK/secrets/pg_password"
chmod 0644 "$WORK/secrets/pg_password"  # read by the postgres and the faceprint user, as compose's file secrets
"$PY" -c 'import secrets; print(secrets.token_hex(32))' >"$WORK/secrets/audit_key"  # one audit key for both nodes
chmod 0644 "$WORK/secrets/audit_key"
"${PODMAN[@]}" run -d --name "$TAG-pg" "${RUN_FLAGS[@]}" -v "$TAG-pg:/var/lib/postgresql/data" \
  -v "$WORK/secrets/pg_password:/run/secrets/pg_password:ro" -e PGPORT="$pg_port" -e PG_LISTEN=127.0.0.1 \
  -e POSTGRES_USER=faceprint -e POSTGRES_DB=faceprint -e POSTGRES_PASSWORD_FILE=/run/secrets/pg_password "$PG_IMAGE" >/dev/null
t0=$SECONDS
until "${PODMAN[@]}" exec "$TAG-pg" pg_isready -q -h 127.0.0.1 -p "$pg_port" -d faceprint -U faceprint 2>/dev/null; do
  [ $((SECONDS - t0)) -lt 60 ] || { "${PODMAN[@]}" logs "$TAG-pg" >&2; die "PostgreSQL not ready after 60 s"; }
  sleep 0.5
done
say "PostgreSQL (Debian's package) ready in $((SECONDS - t0))s; starting nodes A and B at once (migrations under their advisory lock)"
for node in a b; do
  p=$port_a; [ "$node" = b ] && p=$port_b
  "${PODMAN[@]}" run -d --name "$TAG-$node" "${RUN_FLAGS[@]}" -e "FACEPRINT_PORT=$p" -v "$TAG-$node:/data" \
    -e "FACEPRINT_STORE=postgresql://faceprint@127.0.0.1:$pg_port/faceprint" \
    -v "$WORK/secrets/pg_password:/run/secrets/pg_password:ro" -e PGPASSWORD_FILE=/run/secrets/pg_password \
    -v "$WORK/secrets/audit_key:/run/secrets/audit_key:ro" -e FACEPRINT_AUDIT_KEY_FILE=/run/secrets/audit_key \
    "$IMAGE" >/dev/null 2>>"$WORK/podman.err" || die "podman run node $node: $(tail -5 "$WORK/podman.err")"
done
a_s=$(wait_ready "$TAG-a" "$port_a"); b_s=$(wait_ready "$TAG-b" "$port_b")
say "nodes ready (A ${a_s}s, B +${b_s}s)"
key=$("${PODMAN[@]}" exec "$TAG-a" faceprint keys create --name ci --scopes detect,faceset:read,faceset:write --json) || die "keys create on node A"
"$PY" "$HERE/smoke.py" multinode "http://127.0.0.1:$port_a" "http://127.0.0.1:$port_b" "$key" || die "multi-node checks"
if "${PODMAN[@]}" logs "$TAG-a" "$TAG-b" 2>&1 | grep -F -q "$pw"; then die "the database password appears in a node's log"; fi
say "  ok: the database password (PGPASSWORD_FILE, shared with PostgreSQL) is in no log line"

say "PASSED: image ${size_mb} MB, built in ${build_s}s, cold start to /ready ${cold_s}s; whole container test $((SECONDS - START))s"
