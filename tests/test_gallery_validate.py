import pytest

from faceprint.errors import BadInput, InvalidOuterId
from faceprint.gallery import validate


def test_limits_follow_facepp():
    assert validate.outer_id("staff-2024_a.b") == "staff-2024_a.b"
    for bad in ("", "has space", "x" * 256, "semi;colon"):
        with pytest.raises(InvalidOuterId):
            validate.outer_id(bad)
    assert validate.user_data("é" * 8192) and validate.subject("Ana María")
    with pytest.raises(BadInput):
        validate.user_data("é" * 8193)  # 16 KB of UTF-8, not 16 K characters
    with pytest.raises(BadInput):
        validate.subject("a,b")
    with pytest.raises(BadInput):
        validate.tags(["ok"] * 33)
    assert validate.tags(["a", "", "b"]) == ("a", "b")
