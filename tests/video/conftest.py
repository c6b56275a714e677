"""Session fixtures: one real gallery (the clip's stills plus 1,000 LFW distractors) and the clip run once per setting."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceprint.gallery import Gallery, GalleryConfig, GalleryService, NewFace
from faceprint.video import AnalysisConfig, VideoOptions, VideoResult, open_video, process_video, video_engine
from faceprint.video.analysis import FrameAnalysis

from .support import STILLS, distractor_images, embed_distractors

# 1,000 LFW people take about 25 s to embed on 2 idle cores (52 s with the machine shared);
# the issue asks for at least 1,000, so the test gallery holds them all.
DISTRACTORS = 1000


@pytest.fixture(scope="session")
def video_dir(shared: Path) -> Path:
    return shared / "video"


@pytest.fixture(scope="session")
def hamilton(video_dir: Path) -> Path:
    return video_dir / "short_hamilton_clip.mp4"


@pytest.fixture(scope="session")
def vengine():
    return video_engine("arcface-s")


@pytest.fixture(scope="session")
def gallery_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("video-gallery")


@pytest.fixture(scope="session")
def gallery(gallery_dir: Path, shared: Path, video_dir: Path, engine) -> Iterator[Gallery]:
    svc = GalleryService(GalleryConfig(data_dir=gallery_dir), engine=engine)
    svc.create("video")
    for file, subject in STILLS.items():
        svc.enrol_one("video", video_dir / "stills" / file, subject)
    t0 = time.perf_counter()
    names, vecs = embed_distractors(engine, distractor_images(shared / "lfw", DISTRACTORS))
    svc.add_embeddings("video", [NewFace(embedding=v, subject=n) for n, v in zip(names, vecs, strict=True)])
    print(f"\n{len(names)} LFW distractors embedded in {time.perf_counter() - t0:.1f} s")
    yield svc.gallery("video")
    svc.close()


@pytest.fixture(scope="session")
def annotated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("annotated") / "every3.mp4"


@pytest.fixture(scope="session")
def every3(hamilton: Path, gallery: Gallery, vengine, annotated: Path) -> VideoResult:
    """Detection on every 3rd frame, with the annotated copy written to ``annotated``."""
    return process_video(hamilton, gallery, VideoOptions.every(3), engine=vengine, out=annotated)


@pytest.fixture(scope="session")
def every1(hamilton: Path, gallery: Gallery, vengine) -> VideoResult:
    return process_video(hamilton, gallery, VideoOptions.every(1), engine=vengine)


@pytest.fixture(scope="session")
def analysed(hamilton: Path, vengine) -> FrameAnalysis:
    """The clip's frame loop alone (detector on every 3rd frame): tracklets and cuts for identify()."""
    analysis = FrameAnalysis(vengine, AnalysisConfig(detect_every=3))
    with open_video(hamilton) as video:
        for _ in analysis.run(video):
            pass
    return analysis
