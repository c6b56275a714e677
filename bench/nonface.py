"""The non-face gate: how many non-faces it rejects, and how many of LFW's faces it loses.

Protocol. Non-faces: shared/data/detect/dlib_faces/dogs.jpg and every photo bundled in the
scikit-image 0.26.0 and scikit-learn 1.6.1 wheels from PyPI (a cat, a horse, coffee, a rocket,
coins, a motorcycle, textures, China, a flower ...; their two photos of people, astronaut.png and
camera.png, are left out), each as is, mirrored, at half size, and as four fixed quarter-area
crops (seed 0). Every variant goes through ``FaceEngine.detect``, with the gate and without it
(``EngineConfig(face_gate=False)``). Reported: the share of the detector's false faces the gate
rejects, and the share of non-face images left with no face at all.
LFW: the 7,701 images of the official pairs through ``FaceEngine.template`` (bench/lfw.py's
product path; its cache is reused when present): an image whose face the detector found without the
gate (bench/lfw_faces.py) but the product path did not is a lost face.

    python bench/nonface.py       -> table, bench/results/nonface.json
"""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faceprint import EngineConfig, FaceEngine
from faceprint.errors import FaceprintError
from faceprint.image import decode_bytes
from lfw_data import CACHE, DATA, LFW, ROOT

WHEELS = {"scikit-image": "0.26.0", "scikit-learn": "1.6.1"}
PEOPLE = {"astronaut.png", "camera.png"}


def wheel_images() -> list[tuple[str, bytes]]:
    """Photos bundled in the two wheels, fetched with pip into bench/.cache/wheels once."""
    import subprocess

    where = CACHE / "wheels"
    where.mkdir(parents=True, exist_ok=True)
    out = []
    for name, version in WHEELS.items():
        stem = name.replace("-", "_") + f"-{version}-"
        if not any(p.name.startswith(stem) for p in where.glob("*.whl")):
            subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", f"{name}=={version}", "-d", str(where)], check=True)
        wheel = next(p for p in where.glob("*.whl") if p.name.startswith(stem))
        with zipfile.ZipFile(wheel) as z:
            for n in sorted(z.namelist()):
                if n.rsplit(".", 1)[-1] in ("png", "jpg") and Path(n).name not in PEOPLE:
                    out.append((Path(n).name, z.read(n)))
    return out


def variants(name: str, img: np.ndarray, rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    h, w = img.shape[:2]
    out = [(name, img), (f"{name}:mirror", img[:, ::-1].copy())]
    if min(h, w) >= 192:
        out.append((f"{name}:half", np.ascontiguousarray(img[::2, ::2])))
        for k in range(4):
            y, x = int(rng.integers(0, h // 2 + 1)), int(rng.integers(0, w // 2 + 1))
            out.append((f"{name}:crop{k}", np.ascontiguousarray(img[y : y + h // 2, x : x + w // 2])))
    return out


def nonface_images() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    sources = [("dogs.jpg", (DATA / "detect" / "dlib_faces" / "dogs.jpg").read_bytes()), *wheel_images()]
    out = []
    for name, data in sources:
        try:
            img = decode_bytes(data)
        except FaceprintError:
            continue  # e.g. a 102 px image under the minimum side
        out.extend(v for v in variants(name, img, rng) if min(v[1].shape[:2]) >= 48)
    return out


def nonface_rates() -> dict:
    gated, raw = FaceEngine("arcface-s"), FaceEngine("arcface-s", EngineConfig(face_gate=False))
    rows = []
    for name, img in nonface_images():
        rows.append((name, len(raw.detect(img)), len(gated.detect(img))))
    before, after = sum(r[1] for r in rows), sum(r[2] for r in rows)
    return {
        "images": len(rows),
        "false_faces_without_gate": before,
        "false_faces_with_gate": after,
        "false_faces_rejected_pct": round(100 * (before - after) / before, 2) if before else None,
        "images_with_a_face_without_gate": sum(1 for r in rows if r[1]),
        "images_with_a_face_with_gate": sum(1 for r in rows if r[2]),
        "images_clean_with_gate_pct": round(100 * sum(1 for r in rows if not r[2]) / len(rows), 2),
        "false_faces": [r[0] for r in rows if r[1]],
        "still_accepted": [r[0] for r in rows if r[2]],
    }


def lfw_loss() -> dict:
    from lfw import MemoEngine
    from lfw_faces import lfw_faces

    found = lfw_faces("arcface-s", limit=7701)
    had = set(found.owner.tolist())
    engine = MemoEngine("arcface-s")
    missing = []
    for i, p in enumerate(found.paths):
        try:
            engine.template(LFW / "images" / p)
        except FaceprintError:
            if i in had:
                missing.append(p)
    engine.save()
    return {"images": len(found.paths), "faces_without_gate": len(had), "faces_lost": len(missing),
            "face_loss_pct": round(100 * len(missing) / len(had), 3), "lost": missing}  # fmt: skip


def main() -> None:
    out = {"protocol": __doc__.split("\n\n")[1], "nonface": nonface_rates(), "lfw": lfw_loss()}
    n, lf = out["nonface"], out["lfw"]
    print(f"non-face images: {n['images']} ({len(n['false_faces'])} gave the detector a false face, {n['false_faces_without_gate']} in all)")
    print(f"  non-face rejection: {n['false_faces_rejected_pct']}% of false faces rejected; "
          f"{n['images_clean_with_gate_pct']}% of non-face images give no face (still accepted: {n['still_accepted']})")  # fmt: skip
    print(f"LFW face loss: {lf['faces_lost']} of {lf['faces_without_gate']} faces ({lf['face_loss_pct']}%): {lf['lost']}")
    res = ROOT / "bench" / "results"
    res.mkdir(parents=True, exist_ok=True)
    (res / "nonface.json").write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {res / 'nonface.json'}")


if __name__ == "__main__":
    main()
