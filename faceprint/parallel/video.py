"""Several video files at once (``faceprint video A.mp4 B.mp4 --jobs 2``): one pool worker per file.

Each pool worker keeps its engine across files; the file itself is decoded in a process of its own
(:mod:`faceprint.video.isolated`, the server's decoder), so a decoder crash fails that file with
``VIDEO_ERROR_WORKER_CRASHED`` and the others go on. The worker writes the file's ``--json`` /
``--csv`` / ``--out`` itself and sends back the timeline without per-frame boxes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from ..engine import EngineConfig, FaceEngine
from ..gallery import GalleryConfig, GalleryService
from ..video import VideoOptions, process_video
from ..video.isolated import WorkerLimits
from ..video.pipeline import VideoResult


@dataclass(frozen=True)
class Outputs:
    out: Path | None = None  # annotated copy
    json_path: Path | None = None
    csv_path: Path | None = None
    per_frame: bool = False

    def for_file(self, video: Path, several: bool) -> Outputs:
        """With several inputs each path names a folder, and each file gets <stem>.<ext> in it."""
        if not several:
            return self

        def inside(folder: Path | None, ext: str) -> Path | None:
            return None if folder is None else folder / f"{video.stem}{ext}"

        return Outputs(inside(self.out, ".mp4"), inside(self.json_path, ".json"), inside(self.csv_path, ".csv"), self.per_frame)


@dataclass(frozen=True)
class VideoJob:
    path: Path
    gallery: str | None
    tenant: str
    data: Path | None
    options: VideoOptions
    outputs: Outputs


def engine_config(pack: str | None, options: VideoOptions) -> EngineConfig:
    """What :func:`faceprint.video.video_engine` builds, as a picklable config for the pool."""
    return EngineConfig(pack=pack, det_threshold=options.analysis.tracker.low_score)


def run_job(engine: FaceEngine, job: VideoJob) -> VideoResult:
    """One file in a pool worker: decode (isolated), track, identify, write its outputs."""
    source = job.options.source if job.options.source.worker is not None else replace(job.options.source, worker=WorkerLimits.from_env())
    options = replace(job.options, source=source)
    if job.outputs.out is not None:
        job.outputs.out.parent.mkdir(parents=True, exist_ok=True)
    svc = GalleryService(GalleryConfig(data_dir=job.data), engine=engine) if job.gallery else None
    try:
        handle = svc.gallery(job.gallery, tenant=job.tenant) if svc is not None and job.gallery else None
        result = process_video(job.path, handle, options, engine=engine, out=job.outputs.out)
    finally:
        if svc is not None:
            svc.close()
    outs = job.outputs
    if outs.json_path is not None:
        outs.json_path.parent.mkdir(parents=True, exist_ok=True)
        result.write_json(outs.json_path, per_frame=outs.per_frame)
    if outs.csv_path is not None:
        outs.csv_path.parent.mkdir(parents=True, exist_ok=True)
        result.write_csv(outs.csv_path, outs.csv_path.with_suffix(".thumbs"))
    return replace(result, frames=())
