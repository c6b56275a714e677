"""``faceprint detect``, ``compare`` and ``models``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import typer
from rich.table import Table

from ..anyface import PhotoVerdict
from ..choose import FaceChoice
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
    draw: Path | None = typer.Option(None, "--draw", help="Write the (last) image annotated to this file, faces numbered as in the table."),
    max_side: int | None = MaxSideOpt,
    pack: str | None = PackOpt,
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
        pose = ("-", "-", "-") if f.pose is None else (f"{f.pose.yaw:.0f}", f"{f.pose.pitch:.0f}", f"{f.pose.roll:.0f}")
        quality = "-" if f.quality is None else f"{f.quality.score:.0f}"
        table.add_row(str(i), ",".join(str(int(v)) for v in f.bbox), f"{f.score:.3f}", *pose, quality)
    return table


FaceOpt = "Which face: its number in `detect`'s list (0 = largest) or a box x1,y1,x2,y2 (the box is the face). Default: the primary face."


def compare(
    image_a: Path = typer.Argument(..., help="First photo."),
    image_b: Path = typer.Argument(..., help="Second photo."),
    far: str = typer.Option("1e-4", "--far", help=f"Operating point for the exit code: one of {', '.join(FAR_LEVELS)}."),
    face_a: str | None = typer.Option(None, "--face-a", help=f"{FaceOpt}"),
    face_b: str | None = typer.Option(None, "--face-b", help=f"{FaceOpt}"),
    any_face: bool = typer.Option(
        False, "--any", help="Is IMAGE_A's person anywhere in IMAGE_B? Scores every face of IMAGE_B at a per-photo FAR."
    ),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    max_side: int | None = MaxSideOpt,
    pack: str | None = PackOpt,
) -> None:
    """1:1 verification. Exit 0: same person at --far; 1: not the same; 2: error."""
    with handled(as_json):
        if far not in FAR_LEVELS:
            from ..errors import BadInput

            raise BadInput(f"--far must be one of {', '.join(FAR_LEVELS)}")
        engine = engine_factory(pack)()
        imgs = [load_photo(p, max_side) for p in (image_a, image_b)]
        choice_a, choice_b = FaceChoice.parse(face_a), FaceChoice.parse(face_b)
        try:
            if any_face:
                if face_b is not None:
                    from ..errors import BadInput

                    raise BadInput("--any scores every face of IMAGE_B; drop --face-b")
                photo = engine.compare_any(imgs[0], imgs[1], face_a=choice_a)
            else:
                verdict = engine.compare(imgs[0], imgs[1], face_a=choice_a, face_b=choice_b)
        except FaceprintError as exc:
            raise renamed(exc, dict(zip(SIDES, (str(image_a), str(image_b)), strict=True))) from None
    if any_face:
        print_any(photo, image_a, image_b, far, as_json)
        raise typer.Exit(0 if photo.match(far) else 1)
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
            f"faces found: {verdict.faces_a} and {verdict.faces_b} ({_which(face_a)} and {_which(face_b)} compared)"
        )
        words = "[green]same person[/]" if verdict.match(far) else "[red]not the same person[/]"
        console.print(f"verdict at FAR {far}: {words}", soft_wrap=True)
    raise typer.Exit(0 if verdict.match(far) else 1)


def _which(choice: str | None) -> str:
    return "primary face" if choice is None else f"face {choice}"


def print_any(photo: PhotoVerdict, image_a: Path, image_b: Path, far: str, as_json: bool) -> None:
    """Every face of IMAGE_B against IMAGE_A's, best marked, and the per-photo FAR."""
    if as_json:
        print_json({**photo.to_dict(), "decision_far": far, "is_match": photo.match(far)})
        return
    table = Table(title=f"{image_a.name} against every face of {image_b.name}")
    for col in ("#", "box (x1,y1,x2,y2)", "confidence", "similarity"):
        table.add_column(col, justify="right")
    for s in sorted(photo.scores, key=lambda s: -s.similarity)[:5]:
        mark = " *" if s.index == photo.best else ""
        table.add_row(f"{s.index}{mark}", ",".join(str(int(v)) for v in s.face.bbox), f"{s.confidence:.2f}", f"{s.similarity:.3f}")
    console.print(table)
    best = photo.best_face
    words = "[green]found[/]" if photo.match(far) else "[red]not found[/]"
    console.print(
        f"best: face #{best.index} at {','.join(str(int(v)) for v in best.face.bbox)}, confidence {best.confidence:.2f}; "
        f"per-photo FAR {photo.far_per_photo:.2g} ({photo.faces} faces, each held to FAR/{photo.faces}; "
        f"a face needs {photo.face_thresholds[far]:.2f} for FAR {far} per photo)",
        soft_wrap=True,
    )
    console.print(f"verdict at FAR {far} per photo: {words}", soft_wrap=True)


models_app = typer.Typer(help="List the model packs; `models add-pad DIR` installs user-supplied PAD weights.")


def models(
    ctx: typer.Context,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    data: Path | None = DataOpt,
) -> None:
    """List the model packs (files, sizes, sha256, licence) and the user-supplied PAD detectors."""
    if ctx.invoked_subcommand is not None:
        return
    from ..models.packs import available_packs, default_pack_name
    from .pad import pad_rows, print_pad_rows

    default = default_pack_name()
    rows: list[dict[str, Any]] = []  # the --json rows, printed as they are
    for pack in available_packs():
        files: list[dict[str, Any]] = []
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
