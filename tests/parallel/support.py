"""Photos and helpers the pool tests share; task functions live here so spawned workers can import them."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from faceprint.engine import FaceEngine
from faceprint.types import Face

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"


def mixed_photos() -> list[Path]:
    """Portraits, group photos and a face-free photo: every case of the face count."""
    portraits = sorted((SHARED / "gallery" / "train").glob("*/*.jp*g"))
    groups = [SHARED / "gallery" / "test" / "obama_and_biden.jpg", SHARED / "detect" / "dlib_faces" / "2008_002506.jpg"]
    return portraits + groups


def lfw_photos(n: int) -> list[Path]:
    out: list[Path] = []
    for person in sorted((SHARED / "lfw" / "images").iterdir()):
        out += sorted(person.glob("*.jpg"))
        if len(out) >= n:
            return out[:n]
    return out


def embed_or_die(engine: FaceEngine, item: str) -> list[Face]:
    """Embeds the photo; the item "die" kills the worker outright, as a native crash would."""
    if item == "die":
        os.kill(os.getpid(), signal.SIGKILL)
    return engine.embed(item)


def slow_embed(engine: FaceEngine, item: str) -> list[Face]:
    time.sleep(0.5)
    return engine.embed(item)


def pid_of(engine: FaceEngine, item: object) -> int:
    return os.getpid()


def slow_pid(engine: FaceEngine, item: object) -> int:
    time.sleep(0.5)
    return os.getpid()


def slow_touch(engine: FaceEngine, path: str) -> str:
    """Leaves a mark that the task ran."""
    time.sleep(0.3)
    Path(path).touch()
    return path
