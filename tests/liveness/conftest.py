"""Session fixtures: the labelled shot of the hamilton clip, observed once (about 20 s)."""

from __future__ import annotations

import cv2
import pytest

from faceprint.liveness import FrameSequence, observe
from faceprint.liveness.attacks import synthetic_motion

from .support import SHOT, on_frame


@pytest.fixture(scope="session")
def hamilton_seq(shared):
    return FrameSequence.from_video(shared / "video" / "short_hamilton_clip.mp4")


@pytest.fixture(scope="session")
def shot(engine, hamilton_seq):
    """(frames, observations) of the labelled shot, frames 82-210."""
    seq = hamilton_seq.slice(SHOT[0], SHOT[1] + 1)
    return seq, observe(engine, seq)


@pytest.fixture(scope="session")
def other_person(shared):
    """A different person: an LFW photo held up to the camera."""
    return on_frame(cv2.imread(str(shared / "lfw" / "images" / "Aaron_Eckhart" / "Aaron_Eckhart_0001.jpg")))


@pytest.fixture(scope="session")
def other_moving(engine, other_person):
    """That photo moved by an affine warp per frame (the synthetic-motion attack), observed."""
    seq = synthetic_motion(other_person, 45, 15.0, seed=3)
    return seq, observe(engine, seq)


@pytest.fixture(scope="session")
def pad_models(shared):
    """The published MiniFASNet weights (../shared/models/silent-face), as a user downloads them."""
    path = shared.parent / "models" / "silent-face"
    if not path.is_dir():
        pytest.fail(f"PAD weights not found at {path}")
    return path


@pytest.fixture(scope="session")
def pad_data(pad_models, tmp_path_factory):
    """A data directory with the weights installed by the real installer (sha256 checked)."""
    from faceprint.liveness.pad.weights import install

    data = tmp_path_factory.mktemp("pad-data")
    install(pad_models, data)
    return data


@pytest.fixture(scope="session")
def minifasnet(pad_data):
    from faceprint.liveness.pad import PADOptions, get_detector

    return get_detector("minifasnet", PADOptions(data_dir=pad_data))
