from __future__ import annotations

from collections.abc import Iterator

import pytest

from service.support import (
    Key,
    Server,
    make_key,
)  # tests/ is on sys.path (rootdir conftest)

from .support import BUDGET_MB

SCOPES = "detect,compare,faceset:read,faceset:write"


@pytest.fixture(scope="session")
def hostile() -> Iterator[tuple[Server, Key]]:
    """One real server for the hostile suite, with the documented decode budget and a key for every endpoint."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="hostile-") as tmp:
        data = Path(tmp) / "data"
        data.mkdir()
        key = make_key(data, SCOPES)
        srv = Server(
            data,
            env={
                "FACEPRINT_DECODE_BUDGET_MB": str(BUDGET_MB),
                "FACEPRINT_VIDEO_QUEUE_PER_TENANT": "3",
            },
        )
        yield srv, key
        srv.stop()


def alive(server: Server) -> bool:
    """The process still runs and answers /health."""
    if server.proc.poll() is not None:
        return False
    with server.client() as c:
        return c.get("/health").status_code == 200
