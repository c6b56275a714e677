"""User-supplied PAD weights: what the files are, where they come from, and their installation.

The product cannot bundle MiniVision's MiniFASNet weights (they ship in no registry package),
so a user copies them from the public repository and installs them once::

    faceprint models add-pad path/to/anti_spoof_models/      # checks sha256, copies into <data>/models/pad/

or points ``FACEPRINT_PAD_DIR`` at a folder holding them. Every load checks the sha256 digests:
a missing file raises :class:`PADModelMissing`, a different one :class:`PADModelTampered`.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from ...errors import PADModelMissing as PADModelMissing  # defined in the one tree, re-exported for liveness.pad
from ...errors import PADModelTampered as PADModelTampered
from ...models.files import sha256_file

PAD_DIR_ENV = "FACEPRINT_PAD_DIR"
SUBDIR = Path("models") / "pad"
SOURCE = "https://github.com/minivision-ai/Silent-Face-Anti-Spoofing @ b6d5f04 : resources/anti_spoof_models/"
LICENCE = "Apache-2.0 (MiniVision)"


@dataclass(frozen=True)
class WeightFile:
    name: str
    sha256: str
    role: str  # what the file is inside its detector


@dataclass(frozen=True)
class WeightSet:
    detector: str
    summary: str
    files: tuple[WeightFile, ...]
    source: str = SOURCE
    licence: str = LICENCE


MINIFASNET = WeightSet(
    "minifasnet",
    "MiniFASNetV2 (crop x2.7) + MiniFASNetV1SE (crop x4.0), fused live probability",
    (
        WeightFile("2.7_80x80_MiniFASNetV2.pth", "a5eb02e1843f19b5386b953cc4c9f011c3f985d0ee2bb9819eea9a142099bec0", "scale 2.7"),
        WeightFile("4_0_0_80x80_MiniFASNetV1SE.pth", "84ee1d37d96894d5e82de5a57df044ef80a58be2b218b5ed7cdfd875ec2f5990", "scale 4.0"),
    ),
)
WEIGHT_SETS = {MINIFASNET.detector: MINIFASNET}


def _default_data_dir() -> Path:
    from ...gallery.service import default_data_dir

    return Path(default_data_dir())


def install_dir(data_dir: Path | None = None) -> Path:
    return Path(data_dir or _default_data_dir()) / SUBDIR


def search_dirs(data_dir: Path | None = None) -> list[Path]:
    """``$FACEPRINT_PAD_DIR`` first when set, then the data directory's ``models/pad``."""
    env = os.environ.get(PAD_DIR_ENV)
    return ([Path(env)] if env else []) + [install_dir(data_dir)]


def check(ws: WeightSet, folder: Path) -> dict[str, Path]:
    """Every file of ``ws`` in ``folder`` with its digest checked; raises Missing or Tampered."""
    out: dict[str, Path] = {}
    for wf in ws.files:
        path = folder / wf.name
        if not path.is_file():
            raise PADModelMissing(
                f"{wf.name} not found in {folder}: the {ws.detector} weights are user-supplied; get them from {ws.source} "
                f"and run `faceprint models add-pad DIR`", detector=ws.detector,
            )  # fmt: skip
        digest = sha256_file(path)
        if digest != wf.sha256:
            raise PADModelTampered(f"{path} has sha256 {digest}, expected {wf.sha256}", detector=ws.detector)
        out[wf.name] = path
    return out


def locate(ws: WeightSet, data_dir: Path | None = None) -> dict[str, Path]:
    """The first search directory holding any of the files is the one used (and checked whole)."""
    dirs = search_dirs(data_dir)
    for d in dirs:
        if any((d / wf.name).is_file() for wf in ws.files):
            return check(ws, d)
    raise PADModelMissing(
        f"the {ws.detector} PAD weights are not installed (looked in {', '.join(str(d) for d in dirs)}); they are "
        f"user-supplied ({ws.licence}): get them from {ws.source} and run `faceprint models add-pad DIR` "
        f"or set {PAD_DIR_ENV}", detector=ws.detector,
    )  # fmt: skip


def install(source: Path, data_dir: Path | None = None, ws: WeightSet = MINIFASNET) -> list[Path]:
    """Check the files in ``source`` and copy them into the data directory (atomically per file)."""
    found = check(ws, Path(source))
    dest = install_dir(data_dir)
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    for name, path in found.items():
        tmp = dest / f".{name}.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, dest / name)
        out.append(dest / name)
    check(ws, dest)
    return out


def status(ws: WeightSet, data_dir: Path | None = None) -> dict[str, object]:
    """What ``faceprint models`` shows for a user-supplied weight set: source, licence, files, state."""
    try:
        found: dict[str, Path] = locate(ws, data_dir)
        state, error = "installed", None
    except (PADModelMissing, PADModelTampered) as exc:
        found, state, error = {}, "missing" if isinstance(exc, PADModelMissing) else "tampered", exc.code
    return {
        "name": ws.detector, "kind": "pad", "summary": ws.summary, "user_supplied": True, "commercial_use": True,
        "licence": ws.licence, "source": ws.source, "state": state, "error": error,
        "files": [{"role": wf.role, "file": wf.name, "sha256": wf.sha256, "path": str(found[wf.name]) if wf.name in found else None}
                  for wf in ws.files],
    }  # fmt: skip
