"""The labelled PAD material of bench/pad.py: every frame scored once by every detector, cached.

Frames (one decision each; the face is the largest one the detector finds):

=====================  =========  =================================================================
set                    class      what
=====================  =========  =================================================================
nuaa_live              bona fide  NUAA webcam captures, 9 subjects (``spoof/nuaa/live/<id>``)
nuaa_print             attack     NUAA printed photos of the same subjects held up to the camera
spoof_real             bona fide  ``spoof/real``: webcam face crops (+ Silent-Face's live sample)
spoof_replay           attack     ``spoof/fake``: phone-replay crops (+ Silent-Face's two prints)
replay_clip            attack     every frame of ``video/liveness2_fake_replay.mp4`` with a face
hamilton               bona fide  the labelled hamilton shot, frames 82-210 (the liveness tests' footage)
lfw                    bona fide  first image of 1 in 20 LFW identities: web photos, not live captures
static_photo           attack     61 stills (every 100th LFW identity + 3 video stills) on a dim
                                  640x360 frame: a photo held still before the camera
=====================  =========  =================================================================

Cache: bench/.cache/pad_frames.json (delete it to recompute; it is keyed by the detector list).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faceprint import FaceEngine
from faceprint.liveness import FrameSequence
from faceprint.liveness.pad import PADDetector
from faceprint.types import Face
from lfw_data import CACHE, DATA
from liveness import canvas, stills  # the stills and framing bench/liveness.py uses

HAMILTON = (82, 210)
CACHE_FILE = CACHE / "pad_frames.json"
BONA_FIDE = ("nuaa_live", "spoof_real", "hamilton", "lfw")


@dataclass
class Frame:
    set: str
    file: str
    subject: str  # NUAA subject id; a clip name or file name elsewhere
    index: int = -1  # frame number inside a clip
    found: bool = True
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def bona_fide(self) -> bool:
        return self.set in BONA_FIDE


def _score(dets: dict[str, PADDetector], img: np.ndarray, face: Face | None) -> dict[str, float]:
    out = {}
    for name, det in dets.items():
        if face is None:  # a crop the detector misses: the whole crop is the face
            out[name] = float(det.score_crop(img))
        else:
            s = det.score_faces([(img, face)])
            out[name] = s[0] if s else float("nan")
    return out


def _images(engine: FaceEngine, dets: dict[str, PADDetector], set_name: str, paths: list[Path],
            subject: str | None = None) -> list[Frame]:  # fmt: skip
    out = []
    for p in paths:
        img = cv2.imread(str(p))
        faces = engine.detect(img)
        face = faces[0] if faces else None
        out.append(Frame(set_name, str(p.relative_to(DATA)), subject or p.parent.name, -1, face is not None,
                         _score(dets, img, face)))  # fmt: skip
    return out


def _clip(engine: FaceEngine, dets: dict[str, PADDetector], set_name: str, seq: FrameSequence, rel: str,
          first: int = 0) -> list[Frame]:  # fmt: skip
    out = []
    faces = engine.detect_batch(list(seq.images))
    for k, (img, found) in enumerate(zip(seq.images, faces, strict=True)):
        if found:
            out.append(Frame(set_name, rel, Path(rel).stem, first + k, True, _score(dets, img, found[0])))
    return out


def collect(engine: FaceEngine, dets: dict[str, PADDetector], *, quick: bool = False) -> list[Frame]:
    key = sorted(dets) + (["quick"] if quick else [])
    if CACHE_FILE.is_file():
        cached = json.loads(CACHE_FILE.read_text())
        if cached["key"] == key:
            return [Frame(**f) for f in cached["frames"]]
    step = 8 if quick else 1
    frames: list[Frame] = []
    nuaa = DATA / "spoof" / "nuaa"
    for kind, set_name in (("live", "nuaa_live"), ("attack", "nuaa_print")):
        for subj in sorted((nuaa / kind).iterdir()):
            frames += _images(engine, dets, set_name, sorted(subj.glob("*.jpg"))[::step], subj.name)
    for folder, set_name in (("real", "spoof_real"), ("fake", "spoof_replay")):
        paths = sorted((DATA / "spoof" / folder).iterdir())
        frames += [
            f for p in paths[::step] for f in _images(engine, dets, set_name, [p], _spoof_subject(p.name))
        ]
    replay = FrameSequence.from_video(DATA / "video" / "liveness2_fake_replay.mp4")
    frames += _clip(engine, dets, "replay_clip", replay, "video/liveness2_fake_replay.mp4")
    ham = FrameSequence.from_video(DATA / "video" / "short_hamilton_clip.mp4").slice(HAMILTON[0], HAMILTON[1] + 1)
    frames += _clip(engine, dets, "hamilton", ham, "video/short_hamilton_clip.mp4", HAMILTON[0])
    lfw = [min(p.glob("*.jpg")) for p in sorted((DATA / "lfw" / "images").iterdir())[:: 20 * step]]
    frames += _images(engine, dets, "lfw", lfw)
    for name, img in stills()[:: step]:
        frame = canvas(img)
        faces = engine.detect(frame)
        frames.append(Frame("static_photo", name, name, -1, bool(faces), _score(dets, frame, faces[0] if faces else None)))
    CACHE.mkdir(parents=True, exist_ok=True)
    CACHE_FILE.write_text(json.dumps({"key": key, "frames": [asdict(f) for f in frames]}))
    return frames


def _spoof_subject(name: str) -> str:
    """Fold by source: liveness2 crops by frame number (A < 65 <= B), Silent-Face's samples apart."""
    m = re.search(r"_(\d+)\.png$", name)
    if m is None:
        return "silentface"
    return "liveness2_A" if int(m.group(1)) < 65 else "liveness2_B"
