"""``faceprint serve``: the Face++ v3-compatible REST service on uvicorn (127.0.0.1 unless told)."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Any

import typer

from ..parallel import serving
from ..parallel.sizing import default_workers
from .output import handled
from .state import DataOpt, StoreOpt

IndexOpt = typer.Option(None, "--index", envvar="FACEPRINT_INDEX", show_envvar=False, help="Vector index: faiss (default) or milvus://host:19530.")

# Record fields that are not ``extra``: the standard ones, and uvicorn's ANSI-coloured copy of the message.
_STANDARD = set(vars(logging.makeLogRecord({})).keys()) | {"message", "asctime", "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any ``extra`` fields."""

    def format(self, record: logging.LogRecord) -> str:
        out = {"ts": round(record.created, 3), "level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        out.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, default=str)


def json_logging(level: str) -> dict[str, Any]:
    handler = {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"default": handler},
        "loggers": {
            "": {"handlers": ["default"], "level": level.upper()},
            "uvicorn": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.error": {"handlers": ["default"], "level": level.upper(), "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
        },
    }


def serve(
    data: Path | None = DataOpt,
    store: str | None = StoreOpt,
    index: str | None = IndexOpt,
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind. 0.0.0.0 exposes the service to the network."),
    port: int = typer.Option(8000, "--port", min=0, max=65535, envvar="FACEPRINT_PORT", help="TCP port to listen on (env FACEPRINT_PORT)."),
    pack: str | None = typer.Option(None, "--pack", envvar="FACEPRINT_PACK", help="Model pack."),
    token_ttl: float | None = typer.Option(None, "--token-ttl", help="Seconds a detected face token lives unless added to a faceset (default 259200 = 72 h; env FACEPRINT_TOKEN_TTL)."),
    purge_interval: float | None = typer.Option(None, "--purge-interval", help="Seconds between sweeps of expired face tokens (default 60)."),
    max_body: int = typer.Option(12 * 1024 * 1024, "--max-body", help="Largest request body in bytes (413 above)."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds a request may run."),
    batching: bool = typer.Option(True, "--batching/--no-batching", help="Micro-batch concurrent requests into shared model calls."),
    batch_window_ms: float = typer.Option(4.0, "--batch-window-ms", help="Milliseconds a batch waits for more requests."),
    max_batch: int = typer.Option(8, "--max-batch", help="Most images in one micro-batch."),
    batch_workers: int = typer.Option(2, "--batch-workers", help="Threads forming and running batches."),
    detect_together: bool = typer.Option(False, "--detect-together/--detect-apart", help="One detector call per batch (GPU) or per image (CPU)."),
    threads: int | None = typer.Option(None, "--threads", help="onnxruntime threads per model call (default: cores, up to 4)."),
    allow_url_host: list[str] = typer.Option([], "--allow-url-host", help="Allow image_url for this host (repeatable). Off by default."),
    allow_private_urls: bool = typer.Option(False, "--allow-private-urls", help="Let allow-listed hosts resolve to private addresses."),
    cors_origin: list[str] = typer.Option([], "--cors-origin", help="Let web pages of this origin (e.g. https://app.example.com) call the API: CORS"
                                           " (repeatable; env FACEPRINT_CORS_ORIGINS, comma-separated). Off by default."),
    lenient_attributes: bool = typer.Option(False, "--lenient-attributes", help="Attributes we cannot compute (gender, age, ...): omit them and list"
                                            " them in omitted_attributes instead of refusing the request. ethnicity is always refused."),
    log_level: str = typer.Option("info", "--log-level", help="debug, info, warning or error (JSON lines on stderr)."),
    workers: int | None = typer.Option(None, "--workers", min=1, max=256, help="Inference worker processes that detect, compare and search run in,"
                                       " fed from one queue (default: one per core; env FACEPRINT_WORKERS; 1: all in the server process)."),
    processes: int = typer.Option(1, "--processes", min=1, max=256, help="Server processes on the one port (HTTP, auth, audit), sharing the workers."),
) -> None:
    """Run the Face++ v3-compatible REST service (OpenAPI docs at /docs)."""
    import uvicorn

    from ..service import ServiceConfig, create_app
    from ..service.config import BatchPolicy, UrlPolicy

    config = ServiceConfig.from_env(
        data_dir=data, store=store, index=index, pack=pack, token_ttl_s=token_ttl, purge_interval_s=purge_interval, max_body_bytes=max_body,
        request_timeout_s=timeout,
        urls=UrlPolicy(allow_hosts=tuple(allow_url_host), allow_private=allow_private_urls),
        batching=BatchPolicy(enabled=batching, window_ms=batch_window_ms, max_batch=max_batch, workers=batch_workers, detect_together=detect_together),
        threads=threads, cors_origins=tuple(cors_origin) or None, lenient_attributes=lenient_attributes, workers=default_workers(workers),
    )  # fmt: skip
    if host not in ("127.0.0.1", "::1", "localhost"):
        print(f"warning: binding {host}: the service is reachable from other machines", file=sys.stderr)
    for line in startup_notes(data, store, host, port):
        print(line, flush=True)
    options: dict[str, Any] = {"host": host, "port": port, "log_config": json_logging(log_level), "access_log": False,
                               "timeout_keep_alive": 5, "limit_concurrency": 1000}  # fmt: skip
    if config.workers > 1:
        print(f"faceprint serve: {config.workers} inference worker processes", flush=True)
    if processes == 1:
        uvicorn.run(create_app(config), **options)
    else:
        print(f"faceprint serve: {processes} server processes", flush=True)
        with handled(False):  # a process that cannot start (bad pack, cut audit chain) stops them all, with its code
            serving.serve(config, processes, **options)


def startup_notes(data: Path | None, store: str | None, host: str, port: int) -> list[str]:
    """What a newcomer needs on stdout: where the console is, and how to get a key if none exists."""
    from ..service.keys import KeyStore
    from .state import open_service_state

    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)  # noqa: S104 - a bind-all address shown as its loopback
    url = f"http://{f'[{shown}]' if ':' in shown else shown}:{port}/"
    notes = [f"faceprint console: {url}  (API docs: {url}docs)"]
    state = open_service_state(data, store)
    keys = KeyStore(state)
    try:
        live = [k for k in keys.list() if not k.revoked]
    finally:
        keys.close()
        state.close()
    if not live:
        where = f" --data {data}" if data else ""
        notes.append("no API key yet: the console and the API need one. Create an admin key with\n"
                     f"  faceprint keys create --name me --scopes detect,compare,faceset:read,faceset:write,admin{where}")  # fmt: skip
    return notes


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
