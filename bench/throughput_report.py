"""The tables and the facts around them for bench/throughput.py: faces found, ratios, versions, peak RSS."""

from __future__ import annotations

import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from faceprint.boxes import box_iou

ROOT = Path(__file__).resolve().parents[1]
SHORT = {"faceprint": "fp", "faceprint-1to1": "fp-1:1", "insightface": "if", "insightface-nospin": "if-nospin",
         "face_recognition": "fr"}  # fmt: skip


def iou(a: list[float], b: list[float]) -> float:
    return float(box_iou(np.asarray([a], np.float32), np.asarray([b], np.float32))[0, 0])


def faces_report(files: list[str], boxes: dict[str, list[Any]], det_input: dict[str, list[str]]) -> list[dict[str, Any]]:
    rows = []
    names = [Path(f).name for f in files]
    for i, f in enumerate(files):
        ours = boxes["faceprint"][i]
        row: dict[str, Any] = {
            "image": names[i] if names.count(names[i]) == 1 else f"{Path(f).parent.name}/{names[i]}",
            "found": {n: len(b[i]) for n, b in boxes.items()},
            "missed": {},
            "det_input": {n: d[i] for n, d in det_input.items()},
        }
        for peer in ("insightface", "face_recognition"):
            if peer not in boxes:
                continue
            missed = []
            for pb in boxes[peer][i]:
                best = max((iou(pb, ob) for ob in ours), default=0.0)
                if best < 0.5:
                    missed.append({"box": [round(v) for v in pb], "best_iou": round(best, 3)})
            row["missed"][peer] = missed
        rows.append(row)
    return rows


def compare_rss(a: Path, b: Path, reps: int = 3) -> dict[str, Any]:
    """Peak RSS of ``faceprint compare A B`` in a fresh process (os.wait4 gives that child's own rusage)."""
    exe = Path(sys.executable).parent / "faceprint"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "faceprint.cli.main"]
    cmd += ["compare", str(a), str(b), "--json"]
    subprocess.run(cmd, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)  # fills the model cache
    rss, wall, codes = [], [], []
    for _ in range(reps):
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
        _, status, usage = os.wait4(p.pid, 0)
        wall.append(time.perf_counter() - t0)
        rss.append(usage.ru_maxrss / 1024)  # KiB on Linux
        codes.append(os.waitstatus_to_exitcode(status))
    return {
        "command": " ".join(cmd),
        "peak_rss_mib": statistics.median(rss),
        "runs_rss_mib": [round(x, 1) for x in rss],
        "wall_s": statistics.median(wall),
        "exit_codes": codes,
    }


def versions() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    out: dict[str, Any] = {}
    for pkg in (
        "faceprint",
        "onnxruntime",
        "opencv-python-headless",
        "numpy",
        "pillow",
        "insightface",
        "face_recognition",
        "dlib-bin",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = None
    try:
        git = ["git", "-C", str(ROOT)]
        rev = subprocess.run([*git, "rev-parse", "--short", "HEAD"], check=False, capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "faceprint"], check=False).returncode
        out["faceprint_git"] = rev + ("+dirty" if dirty else "")
    except OSError:
        pass
    return out


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def print_table(threads: int, run: dict[str, Any]) -> None:
    print(f"{'set':20s} {'pipeline':20s} {'images/s':>9s} {'best':>6s} {'cpu ms/img':>11s}  passes (images/s)")
    for set_name, s in run["sets"].items():
        for n, st in s["stats"].items():
            print(
                f"{set_name:20s} {n:20s} {st['images_per_s']:9.2f} {st['best_images_per_s']:6.2f} {st['cpu_ms_per_image']:11.1f}"
                f"  {st['passes_images_per_s']}"
            )


def summarise(runs: dict[int, Any], sets: dict[str, Any]) -> dict[str, Any]:
    ratios, ok = [], True
    for t, run in runs.items():
        for set_name, s in run["sets"].items():
            st = s["stats"]
            fp = st["faceprint"]["images_per_s"]
            best = max((n for n in ("insightface", "insightface-nospin") if n in st), key=lambda n: st[n]["images_per_s"])
            ins = st[best]["images_per_s"]
            row = {
                "threads": t,
                "set": set_name,
                "faceprint": fp,
                "insightface_best": ins,
                "insightface_config": best,
                "vs_insightface": fp / ins,
                "vs_insightface_cpu": st[best]["cpu_ms_per_image"] / st["faceprint"]["cpu_ms_per_image"],
            }
            row["vs_insightface_best"] = st["faceprint"]["best_images_per_s"] / st[best]["best_images_per_s"]
            paired = [a / b for a, b in zip(st["faceprint"]["passes_images_per_s"], st[best]["passes_images_per_s"], strict=True)]
            row["vs_insightface_paired"] = [statistics.median(paired), min(paired), max(paired)]
            row["faceprint_1to1"] = st["faceprint-1to1"]["images_per_s"]
            row["vs_insightface_1to1"] = row["faceprint_1to1"] / ins
            if "face_recognition" in st:
                row["face_recognition"] = st["face_recognition"]["images_per_s"]
                row["vs_face_recognition"] = fp / st["face_recognition"]["images_per_s"]
            ok &= row["vs_insightface"] >= 1.3 and row.get("vs_face_recognition", 5.0) >= 5.0
            ratios.append(row)
    first = runs[min(runs)]
    faces = {k: faces_report(s["files"], s["boxes"], s["det_input"]) for k, s in first["sets"].items()}
    missed = sum(len(m) for rows in faces.values() for r in rows for m in r["missed"].values())
    return {"ratios": ratios, "faces": faces, "missed_total": missed, "targets_met": bool(ok and missed == 0)}


def print_summary(report: dict[str, Any]) -> None:
    print("\n=== median images/s and ratios (InsightFace: the faster of its configurations) ===")
    print("(also fp/if from: CPU ms per image; 'best', each photo's fastest pass; the median and range of the")
    print(" ratios of passes run side by side. The targets are judged on the medians, fp/if and fp/fr.)")
    print(
        f"{'threads':>7s} {'set':20s} {'faceprint':>9s} {'insightface':>11s} {'face_rec':>8s} {'fp/if':>6s} {'fp/fr':>6s}  "
        f"{'cpu':>5s} {'best':>5s}  {'by pass':>17s}"
    )
    for r in report["ratios"]:
        fr = f"{r['face_recognition']:8.2f}" if "face_recognition" in r else "       -"
        vs_fr = f"{r['vs_face_recognition']:6.1f}" if "vs_face_recognition" in r else "     -"
        print(
            f"{r['threads']:7d} {r['set']:20s} {r['faceprint']:9.2f} {r['insightface_best']:11.2f} {fr} "
            f"{r['vs_insightface']:6.2f} {vs_fr}  {r['vs_insightface_cpu']:5.2f} {r['vs_insightface_best']:5.2f}  "
            "{:5.2f} [{:4.2f}-{:4.2f}]".format(*r["vs_insightface_paired"])
            + f"  ({r['insightface_config']})"
        )
    print("\n1:1 path (FaceEngine.template: largest face, flip-fused; reported beside, not a target):")
    for r in report["ratios"]:
        print(f"{r['threads']:7d} {r['set']:20s} {r['faceprint_1to1']:9.2f} images/s  {r['vs_insightface_1to1']:5.2f}x InsightFace")
    print("\n=== faces found per image (warm-up pass at 1 thread; a peer face is matched at IoU >= 0.5) ===")
    print("(det: the detector's input, w x h, faceprint / InsightFace; both scale to fit 640, faceprint pads to /32 only)")
    for set_name, rows in report["faces"].items():
        for r in rows:
            found = "  ".join(f"{SHORT[n]} {c:2d}" for n, c in r["found"].items())
            found += f"   det {r['det_input']['faceprint']:>7s} / {r['det_input']['insightface']}"
            miss = "; ".join(
                f"{SHORT[p]} face {m['box']} (best IoU {m['best_iou']})" for p, ms in r["missed"].items() for m in ms
            )
            print(f"{set_name:20s} {r['image']:34s} {found}   {'MISSED: ' + miss if miss else 'all peer faces found'}")
    print(
        f"\nmissed peer faces: {report['missed_total']};  targets (>= 1.3x InsightFace, >= 5x face_recognition, "
        f"no missed face): {'MET' if report['targets_met'] else 'NOT MET'}"
    )
