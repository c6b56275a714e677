"""embed_many: the engine's faces for many paths, the first bad one named in the error."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceprint.engine import EngineConfig, FaceEngine
from faceprint.errors import FaceprintError
from faceprint.parallel import embed_many, embed_outcomes

from .support import mixed_photos


def test_embed_many_matches_embed_batch_and_names_a_bad_file(tmp_path: Path) -> None:
    photos = [str(p) for p in mixed_photos()[:4]]
    got = embed_many(photos, workers=2)
    want = FaceEngine(config=EngineConfig(threads=1)).embed_batch(photos)
    assert [len(f) for f in got] == [len(f) for f in want]
    for g, w in zip([f for fs in got for f in fs], [f for fs in want for f in fs], strict=True):
        assert float(np.dot(g.embedding, w.embedding)) >= 0.99999  # type: ignore[arg-type]
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"\x89PNG not really")
    with pytest.raises(FaceprintError) as err:
        embed_many([photos[0], str(bad)], workers=1)
    assert err.value.code == "IMAGE_ERROR_UNSUPPORTED_FORMAT" and str(bad) in err.value.message
    outcomes = embed_outcomes([str(bad), photos[0]], workers=1, landmarks=True)
    assert outcomes[0].error is not None and outcomes[1].get()[0].landmarks is not None
