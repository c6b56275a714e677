"""``faceprint pad IMG...`` (a passive check of single photos) and ``faceprint models add-pad DIR``.

``pad`` exit codes: 0 every image looks bona fide; 1 at least one looks like an attack; 2 an
image or option could not be used (an error code, never a traceback): no face, weights missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from .output import console, engine_factory, handled, print_json
from .state import DataOpt

PackOpt = typer.Option(None, "--pack", envvar="FACEPRINT_PACK", help="Model pack (see `faceprint models`).")


def pad(
    images: list[Path] = typer.Argument(..., help="Photos of one face each (a selfie at enrolment)."),
    detector: str = typer.Option("minifasnet", "--detector", "-d", help="Passive detector (see docs/liveness.md)."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    data: Path | None = DataOpt,
    pack: str | None = PackOpt,
) -> None:
    """Passive presentation-attack check of single photos: is this a live face or a print / screen?"""
    with handled(as_json):
        from ..liveness.pad import PADOptions, get_detector
        from ..liveness.passive import check_image

        det = get_detector(detector, PADOptions(data_dir=data))
        engine = engine_factory(pack)()
        rows = [{"image": str(p), **check_image(engine, det, p).to_dict()} for p in images]
    if as_json:
        print_json(rows)
    else:
        table = Table(title=f"passive check: {detector} (attack when score >= {det.threshold:g})")
        for col in ("image", "faces", "live probability", "attack score", "verdict"):
            table.add_column(col)
        for r in rows:
            verdict = "[red]attack[/]" if r["attack"] else "[green]bona fide[/]"
            live = "" if r["live_probability"] is None else f"{r['live_probability']:.4f}"
            table.add_row(str(r["image"]), str(r["faces"]), live, f"{r['score']:.4f}", verdict)
        console.print(table)
    raise typer.Exit(1 if any(r["attack"] for r in rows) else 0)


def add_pad(
    folder: Path = typer.Argument(..., help="A folder holding the published weight files."),
    data: Path | None = DataOpt,
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Install user-supplied PAD weights (MiniFASNet) after checking their sha256 digests."""
    with handled(as_json):
        from ..liveness.pad.weights import MINIFASNET, install

        paths = install(folder, data)
    out: dict[str, Any] = {"detector": MINIFASNET.detector, "installed": [str(p) for p in paths],
                           "licence": MINIFASNET.licence, "source": MINIFASNET.source}  # fmt: skip
    if as_json:
        print_json(out)
    else:
        console.print(f"{MINIFASNET.detector}: {len(paths)} files checked and installed in {paths[0].parent} "
                      f"({MINIFASNET.licence})")  # fmt: skip


def pad_rows(data: Path | None = None) -> list[dict[str, object]]:
    """The user-supplied PAD weight sets, as `faceprint models` lists them."""
    from ..liveness.pad.weights import WEIGHT_SETS, status

    return [status(ws, data) for ws in WEIGHT_SETS.values()]


def print_pad_rows(rows: list[dict[str, object]]) -> None:
    for r in rows:
        state = {"installed": "[green]installed[/]", "missing": "[yellow]not installed[/]"}.get(str(r["state"]), f"[red]{r['error']}[/]")
        table = Table(title=f"PAD detector {r['name']}: {r['summary']} — {state}",
                      caption=f"USER-SUPPLIED, not bundled. {r['licence']}. Source: {r['source']}. "
                              "Install: faceprint models add-pad DIR (or set FACEPRINT_PAD_DIR)")  # fmt: skip
        for col in ("role", "file", "sha256"):
            table.add_column(col)
        for f in r["files"]:  # type: ignore[attr-defined]
            table.add_row(f["role"], f["file"], f["sha256"])
        console.print(table)


def register(app: typer.Typer, models_app: typer.Typer) -> None:
    app.command()(pad)
    models_app.command("add-pad")(add_pad)
