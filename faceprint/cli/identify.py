"""``faceprint identify IMG... --gallery G [--draw OUT]``: who is every face in these photos."""

from __future__ import annotations

from pathlib import Path

import cv2
import typer
from rich.table import Table

from ..compare import FAR_LEVELS
from ..draw import draw_faces
from ..errors import BadInput
from ..gallery import GalleryConfig, GalleryService, SearchOptions
from ..gallery.identify import Identified, identify
from .output import console, handled, print_json
from .state import DataOpt


def identify_cmd(
    images: list[Path] = typer.Argument(..., help="Photos to identify everyone in."),
    gallery: str = typer.Option(..., "--gallery", "-g", help="outer_id or faceset_token; several separated by commas."),
    draw: Path | None = typer.Option(
        None, "--draw", help="Write the photo with each face's name: a file for one photo, a folder for several."
    ),
    top: int = typer.Option(1, "--top", min=1, max=100, help="Candidate subjects listed per face (1-100)."),
    far: str = typer.Option("1e-4", "--far", help=f"Operating point for known/unknown: {', '.join(FAR_LEVELS)}."),
    data: Path | None = DataOpt,
    tenant: str = typer.Option("default", "--tenant", help="Tenant the galleries belong to."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Every face of every photo with its best subject, or `unknown`. Exit 0 when any face is known."""
    with handled(as_json), GalleryService(GalleryConfig(data_dir=data)) as svc:
        options = SearchOptions(top_k=top, by="subject", far=far)
        results = identify(svc, gallery.split(","), images, options, tenant=tenant)
        if draw is not None:
            _draw(svc, images, results, draw)
    if as_json:
        print_json([{"image": str(p), **r.to_dict()} for p, r in zip(images, results, strict=True)])
    else:
        for path, r in zip(images, results, strict=True):
            _print(path, r, far)
        if draw is not None:
            console.print(f"annotated image(s) written to {draw}")
    raise typer.Exit(0 if any(f.result.known for r in results for f in r.faces) else 1)


def _print(path: Path, r: Identified, far: str) -> None:
    table = Table(title=f"{path}: {len(r.faces)} face(s), threshold at FAR {far}")
    for col in ("#", "box (x1,y1,x2,y2)", "subject", "confidence", "candidates"):
        table.add_column(col)
    for f in r.faces:
        best = f.result.best
        others = ", ".join(f"{m.subject} {m.confidence:.1f}" for m in f.result.matches)
        table.add_row(str(f.index), ",".join(str(int(v)) for v in f.face.bbox), f.name,
                      f"{best.confidence:.1f}" if best else "-", others)  # fmt: skip
    console.print(table)


def _draw(svc: GalleryService, images: list[Path], results: list[Identified], out: Path) -> None:
    if len(images) > 1:
        out.mkdir(parents=True, exist_ok=True)
    elif out.is_dir():
        raise BadInput(f"--draw {out} is a folder; give a file name for one photo")
    for path, r in zip(images, results, strict=True):
        target = out / f"{path.stem}.png" if len(images) > 1 else out
        img = svc.engine.load(path)
        labels = [f"#{f.index} {f.name}" for f in r.faces]
        if not cv2.imwrite(str(target), draw_faces(img, [f.face for f in r.faces], labels)):
            raise BadInput(f"cannot write {target} (use .png or .jpg)")


def register(app: typer.Typer) -> None:
    app.command("identify")(identify_cmd)
