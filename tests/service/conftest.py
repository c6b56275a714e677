from __future__ import annotations

from collections.abc import Iterator

import pytest

from .support import Key, Server, make_key


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One real server for the modules that need no special flags; each module has its own key (tenant)."""
    srv = Server(tmp_path_factory.mktemp("serve"))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def key(server: Server) -> Key:
    return make_key(server.data, "detect,compare,faceset:read,faceset:write,admin")
