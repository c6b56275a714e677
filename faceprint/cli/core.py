"""``faceprint detect``, ``compare`` and ``models``."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import cv2
import numpy as np
import typer
from rich.table import Table

from ..compare import FAR_LEVELS
from ..draw import draw_faces
from ..engine import SIDES
from ..errors import FaceprintError
from ..types import Face
from .output import console, each_file, engine_factory, handled, print_json
from .photos import MaxSideOpt, load_photo, renamed
from .state import DataOpt

PackOpt = typer.Option(None, "--pack", envvar="FACEPRINT_PACK", help="Model pack (see `faceprint models`).")


def detect(
    images: list[Path] = typer.Argument(..., help="Image files; each is reported, and a bad one does not stop the rest."),
    landmarks: bool = typer.Option(False, "--landmarks", help="Also compute the 106 landmarks."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    draw: Optional[Path] = typer.Option(None, "--draw", help="Write the (last) image annotated to this file, faces numbered as in the table."),
    max_side: Optional[int] = MaxSideOpt,
    pack: Optional[str] = PackOpt,
) -> None:
    """Detect faces: boxes, keypoints, head pose and quality. Exit 2 if any file could not be read."""
    with handled(as_json):
        engine = engine_factory(pack)()

        def one(path: Path) -> tuple[np.ndarray, list[Face]]:
            img = load_photo(path, max_side)
            return img, engine.detect(img, landmarks=landmarks)

        batch = each_file(images, one, as_json)
        if draw is not None and batch.done:
            img, faces = batch.done[-1][1]
            cv2.imwrite(str(draw), draw_faces(img, faces))
    if as_json:
        rows = [{"image": str(p), "width": img.shape[1], "height": img.shape[0], "faces": [f.to_dict() for f in faces]}
                for p, (img, faces) in batch.done]  # fmt: skip
        print_json(rows + batch.failures())
    else:
        for path, (_, faces) in batch.done:
            console.print(_faces_table(path, faces))
        if draw is not None and batch.done:
            console.print(f"annotated image written to {draw}")
    batch.exit_if_failed()


def _faces_table(path: Path, faces: list[Face]) -> Table:
    table = Table(title=f"{path}: {len(faces)} face(s)")
    for col in ("#", "box (x1,y1,x2,y2)", "score", "yaw", "pitch", "roll", "quality"):
        table.add_column(col, justify="right")
    for i, f in enumerate(faces):
        pose, quality = f.pose, f.quality
        assert pose is not None and quality is not None
        table.add_row(str(i), ",".join(str(int(v)) for v in f.bbox), f"{f.score:.3f}", f"{pose.yaw:.0f}", f"{pose.pitch:.0f}",
                      f"{pose.roll:.0f}", f"{quality.score:.0f}")  # fmt: skip
    return table


def compare(
    image_a: Path = typer.Argument(..., help="First photo."),
    image_b: Path = typer.Argument(..., help="Second photo."),
    far: str = typer.Option("1e-4", "--far", help=f"Operating point for the exit code: one of {', '.join(FAR_LEVELS)}."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    max_side: Optional[int] = MaxSideOpt,
    pack: Optional[str] = PackOpt,
) -> None:
    """1:1 verification. Exit 0: same person at --far; 1: not the same; 2: error."""
    with handled(as_json):
        if far not in FAR_LEVELS:
            from ..errors import BadInput

            raise BadInput(f"--far must be one of {', '.join(FAR_LEVELS)}")
        engine = engine_factory(pack)()
        imgs = [load_photo(p, max_side) for p in (image_a, image_b)]
        try:
            verdict = engine.compare(*imgs)
        except FaceprintError as exc:
            raise renamed(exc, dict(zip(SIDES, (str(image_a), str(image_b))))) from None
    if as_json:
        print_json({"pack": engine.pack.name, **verdict.to_dict(), "decision_far": far, "is_match": verdict.match(far)})
    else:
        table = Table(title=f"{image_a.name} vs {image_b.name}  (pack {engine.pack.name})")
        table.add_column("false-accept rate")
        table.add_column("threshold", justify="right")
        table.add_column("verdict")
        for level in FAR_LEVELS:
            ok = verdict.match(level)
            table.add_row(
                f"{float(level):.3%} ({level})",
                f"{verdict.thresholds[level]:.2f}",
                "[green]same person[/]" if ok else "[red]not the same person[/]",
            )
        console.print(table)
        console.print(
            f"confidence [bold]{verdict.confidence:.2f}[/] / 100 (cosine {verdict.similarity:.3f}); "
            f"faces found: {verdict.faces_a} and {verdict.faces_b} (largest compared)"
        )
        words = "[green]same person[/]" if verdict.match(far) else "[red]not the same person[/]"
        console.print(f"verdict at FAR {far}: {words}", soft_wrap=True)
    raise typer.Exit(0 if verdict.match(far) else 1)


models_app = typer.Typer(help="List the model packs; `models add-pad DIR` installs user-supplied PAD weights.")


def models(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    data: Optional[Path] = DataOpt,
) -> None:
    """List the model packs (files, sizes, sha256, licence) and the user-supplied PAD detectors."""
    if ctx.invoked_subcommand is not None:
        return
    from ..models.packs import available_packs, default_pack_name
    from .pad import pad_rows, print_pad_rows

    default = default_pack_name()
    rows = []
    for pack in available_packs():
        files = []
        for role, mf in pack.files.items():
            try:
                path = mf.path()
                files.append({"role": role, "file": mf.name, "bytes": path.stat().st_size, "sha256": mf.sha256, "path": str(path)})
            except FaceprintError as exc:
                files.append({"role": role, "file": mf.name, "bytes": None, "sha256": mf.sha256, "error": exc.code})
        rows.append(
            {
                "name": pack.name,
                "default": pack.name == default,
                "summary": pack.summary,
                "dim": pack.dim,
                "commercial_use": pack.commercial,
                "licence": pack.licence,
                "files": files,
            }
        )
    pads = pad_rows(data)
    if as_json:
        print_json(rows + pads)
        return
    for r in rows:
        mark = " [bold](default)[/]" if r["default"] else ""
        use = "[green]commercial use allowed[/]" if r["commercial_use"] else "[bold red]NON-COMMERCIAL research only[/]"
        table = Table(title=f"{r['name']}{mark}: {r['summary']}", caption=f"{use}. {r['licence']}")
        for col in ("role", "file", "size", "sha256"):
            table.add_column(col)
        for f in r["files"]:
            size = f"{f['bytes'] / 1e6:.1f} MB" if f["bytes"] else f"[red]{f.get('error')}[/]"
            table.add_row(f["role"], f["file"], size, f["sha256"])
        console.print(table)
    console.print(
        "InsightFace's weights (the arcface-s pack) are licensed for non-commercial research only. "
        "The sface and dlib packs allow commercial use: set FACEPRINT_PACK=sface (or pass --pack) to switch everything.",
        soft_wrap=True,
    )
    print_pad_rows(pads)


def register(app: typer.Typer) -> None:
    app.command()(detect)
    app.command()(compare)
    models_app.callback(invoke_without_command=True)(models)
    app.add_typer(models_app, name="models")
