"""The Milvus backend's address, read from its index URL (no server needed)."""

from __future__ import annotations

import pytest

from faceprint.errors import InvalidIndexSpec
from faceprint.index.milvus.config import parse_address


def test_address_parsing() -> None:
    a = parse_address("milvus://db.example:19531/faces?timeout=3", {})
    assert (a.uri, a.db_name, a.timeout, a.write_timeout, a.token, a.erase) == ("http://db.example:19531", "faces", 3.0, 120.0, "", None)
    assert parse_address("milvus://h?write_timeout=30&erase=compact", {}).write_timeout == 30.0
    assert parse_address("milvus+https://u:p%40ss@h", {}).uri == "https://h:19530"
    assert parse_address("milvus+https://u:p%40ss@h", {}).token == "u:p@ss"
    assert parse_address("milvus://u:p@h?erase=rewrite", {"FACEPRINT_MILVUS_TOKEN": "key"}).token == "key"  # env wins
    assert "key" not in repr(parse_address("milvus://h", {"FACEPRINT_MILVUS_TOKEN": "key"}))
    for bad in ("milvus://", "milvus://h:x", "milvus://h?erase=now", "milvus://h?timeout=-1", "milvus://h?write_timeout=x", "milvus://h?nprobe=3", "milvus://h/1db"):
        with pytest.raises(InvalidIndexSpec) as exc:
            parse_address(bad, {})
        assert exc.value.code == "INVALID_INDEX_SPEC"
