"""``faceprint video INPUT --gallery G``: who appears when, as a timeline and an annotated copy."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..compare import FAR_LEVELS
from ..errors import BadInput
from ..gallery import GalleryConfig, GalleryService
from ..video import AnalysisConfig, IdentifyConfig, SourceConfig, VideoOptions, process_video, video_engine
from .output import console, handled
from .state import DataOpt


class RateColumn(ProgressColumn):
    """Frames per second over the last few seconds."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- fps" if speed is None else f"{speed:5.1f} fps", style="progress.data.speed")


def video(
    input: Path = typer.Argument(..., help="Video file: mp4, webm, mov, avi, mkv."),
    gallery: str | None = typer.Option(None, "--gallery", "-g", help="Gallery (outer_id or faceset_token) to identify against; without it everyone is unknown-N."),
    out: Path | None = typer.Option(None, "--out", help="Write an annotated copy (.mp4, .webm, .mov, .mkv, .avi)."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the timeline as JSON."),
    csv_path: Path | None = typer.Option(None, "--csv", help="Write the timeline as CSV (one row per segment), thumbnails beside it."),
    detect_every: int = typer.Option(1, "--detect-every", min=1, max=100, help="Run the detector on every Nth frame; track in between."),
    min_face: int = typer.Option(0, "--min-face", min=0, help="Ignore faces narrower than this many pixels."),
    far: str = typer.Option("1e-5", "--far", help=f"Open-set operating point: {', '.join(FAR_LEVELS)}."),
    per_frame: bool = typer.Option(False, "--per-frame", help="Also put every frame's tracked boxes into --json."),
    allow_truncated: bool = typer.Option(False, "--allow-truncated", help="Process what a cut-short file holds instead of failing."),
    data: Path | None = DataOpt,
    tenant: str = typer.Option("default", "--tenant", help="Tenant the gallery belongs to."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no table."),
) -> None:
    """Find and identify enrolled people in a video: a timeline per subject, and an annotated copy."""
    with handled(False):
        if far not in FAR_LEVELS:
            raise BadInput(f"--far must be one of {', '.join(FAR_LEVELS)}; got {far!r}")
        options = VideoOptions(
            analysis=AnalysisConfig(detect_every=detect_every, min_face=min_face),
            identify=IdentifyConfig(far=far),
            source=SourceConfig(allow_truncated=allow_truncated),
        )
        svc = GalleryService(GalleryConfig(data_dir=data)) if gallery else None
        try:
            handle = svc.gallery(gallery, tenant=tenant) if svc is not None and gallery else None
            engine = video_engine(handle.info.pack if handle is not None else None, options)
            with _progress(quiet) as bar:
                tasks: dict[str, TaskID] = {}

                def step(stage: str, done: int, total: int | None) -> None:
                    if stage not in tasks:
                        tasks[stage] = bar.add_task(stage, total=total)
                    bar.update(tasks[stage], completed=done, total=total)

                result = process_video(input, handle, options, engine=engine, out=out, progress=step)
        finally:
            if svc is not None:
                svc.close()
        if json_path is not None:
            result.write_json(json_path, per_frame=per_frame)
        if csv_path is not None:
            result.write_csv(csv_path, csv_path.with_suffix(".thumbs"))
    if not quiet:
        _table(result)


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn(),
        console=console, transient=True, disable=quiet,
    )  # fmt: skip


def _table(result) -> None:  # type: ignore[no-untyped-def]
    s = result.stats
    console.print(f"{result.info.path}: {s.frames} frames, {result.info.duration_s or 0:.1f} s, detector on {s.frames_detected}, "
                  f"{s.faces_embedded} faces embedded, {result.realtime_factor:.2f}x real time")  # fmt: skip
    table = Table()
    for col in ("subject", "confidence", "segments (s)", "tracks"):
        table.add_column(col)
    for sub in result.subjects:
        spans = ", ".join(f"{g.start_s:.1f}-{g.end_s:.1f}" for g in sub.segments)
        table.add_row(sub.label, f"{sub.confidence:.1f}" if sub.known else "", spans, " ".join(map(str, sub.track_ids)))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("video")(video)



