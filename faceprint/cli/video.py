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
from ..parallel import EnginePool, PoolConfig, default_workers
from ..parallel.video import Outputs, VideoJob, engine_config, run_job
from ..video import AnalysisConfig, IdentifyConfig, SourceConfig, VideoOptions, process_video, video_engine
from ..video.pipeline import VideoResult
from .output import console, err_console, handled
from .state import DataOpt


class RateColumn(ProgressColumn):
    """Frames per second over the last few seconds."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- fps" if speed is None else f"{speed:5.1f} fps", style="progress.data.speed")


def video(
    inputs: list[Path] = typer.Argument(..., help="Video file(s): mp4, webm, mov, avi, mkv."),
    gallery: str | None = typer.Option(None, "--gallery", "-g", help="Gallery (outer_id or faceset_token) to identify against; without it everyone is unknown-N."),
    out: Path | None = typer.Option(None, "--out", help="Write an annotated copy (.mp4, .webm, .mov, .mkv, .avi); with several files, a folder for <name>.mp4."),
    json_path: Path | None = typer.Option(None, "--json", help="Write the timeline as JSON; with several files, a folder for <name>.json."),
    csv_path: Path | None = typer.Option(None, "--csv", help="Write the timeline as CSV (one row per segment), thumbnails beside it; with several files, a folder."),
    detect_every: int = typer.Option(1, "--detect-every", min=1, max=100, help="Run the detector on every Nth frame; track in between."),
    min_face: int = typer.Option(0, "--min-face", min=0, help="Ignore faces narrower than this many pixels."),
    far: str = typer.Option("1e-5", "--far", help=f"Open-set operating point: {', '.join(FAR_LEVELS)}."),
    per_frame: bool = typer.Option(False, "--per-frame", help="Also put every frame's tracked boxes into --json."),
    allow_truncated: bool = typer.Option(False, "--allow-truncated", help="Process what a cut-short file holds instead of failing."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=1, max=256, help="Files processed at once, each in its own process (default: one per core, env FACEPRINT_WORKERS)."),
    data: Path | None = DataOpt,
    tenant: str = typer.Option("default", "--tenant", help="Tenant the gallery belongs to."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar and no table."),
) -> None:
    """Find and identify enrolled people in videos: a timeline per subject, and an annotated copy."""
    with handled(False):
        if far not in FAR_LEVELS:
            raise BadInput(f"--far must be one of {', '.join(FAR_LEVELS)}; got {far!r}")
        options = VideoOptions(
            analysis=AnalysisConfig(detect_every=detect_every, min_face=min_face),
            identify=IdentifyConfig(far=far),
            source=SourceConfig(allow_truncated=allow_truncated),
        )
        outputs = Outputs(out, json_path, csv_path, per_frame)
        if len(inputs) > 1:
            if _several(inputs, gallery, options, outputs, jobs, data, tenant, quiet):
                raise typer.Exit(1)
            return
        result = _one(inputs[0], gallery, options, outputs, data, tenant, quiet)
    if not quiet:
        _table(result)


def _one(input: Path, gallery: str | None, options: VideoOptions, outputs: Outputs, data: Path | None, tenant: str, quiet: bool) -> VideoResult:
    """One file in this process, with a progress bar per stage."""
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

            result = process_video(input, handle, options, engine=engine, out=outputs.out, progress=step)
    finally:
        if svc is not None:
            svc.close()
    if outputs.json_path is not None:
        result.write_json(outputs.json_path, per_frame=outputs.per_frame)
    if outputs.csv_path is not None:
        result.write_csv(outputs.csv_path, outputs.csv_path.with_suffix(".thumbs"))
    return result


def _several(inputs: list[Path], gallery: str | None, options: VideoOptions, outputs: Outputs, jobs: int | None, data: Path | None,
             tenant: str, quiet: bool) -> bool:  # fmt: skip
    """Every file in the worker pool; a file that fails is reported by its code. True when any failed."""
    pack = None
    if gallery:
        with GalleryService(GalleryConfig(data_dir=data)) as svc:
            pack = svc.gallery(gallery, tenant=tenant).info.pack  # an unknown gallery fails now, before any worker starts
    work = [VideoJob(p, gallery, tenant, data, options, outputs.for_file(p, True)) for p in inputs]
    failed = False
    with EnginePool(PoolConfig(workers=min(default_workers(jobs), len(inputs)), engine=engine_config(pack, options))) as pool, \
            _progress(quiet) as bar:  # fmt: skip
        task = bar.add_task("files", total=len(inputs))
        for i, outcome in enumerate(pool.map(run_job, work)):
            bar.update(task, completed=i + 1)
            if outcome.error is not None:
                failed = True
                err_console.print(f"[bold red]{outcome.error.code}[/]: {inputs[i]}: {outcome.error.message}", soft_wrap=True)
            elif not quiet:
                _table(outcome.get())
    return failed


def _progress(quiet: bool) -> Progress:
    return Progress(
        TextColumn("{task.description:>9}"), BarColumn(), MofNCompleteColumn(), RateColumn(), TimeRemainingColumn(),
        console=console, transient=True, disable=quiet,
    )  # fmt: skip


def _table(result: VideoResult) -> None:
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



