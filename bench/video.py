"""Video throughput: real-time factor and embeddings per frame, against the naive pipeline.

For each clip (``short_hamilton_clip.mp4`` 640x360, ``MOT20-05_crowd_short.mp4`` 826x540) and
each detector cadence (every frame, every 3rd frame), ``process_video`` runs the whole
pipeline: decode, detect, track, choose each track's best faces, embed them, identify against a
gallery of the clip's three stills plus LFW distractors, build the timeline (no annotated copy:
encoding is a separate cost, reported once at the end).

The baseline, measured in the same run and interleaved round by round so that load from other
processes hits both alike, is the naive pipeline: decode, detect every frame and embed every
face in every frame (``FaceEngine.detect`` then ``embed_faces``).

- real-time factor = media seconds / wall seconds (median of ``--rounds``);
- embeddings per frame, ours against the naive pipeline's.

The machine's cores are pinned to ``--cores`` (default 2) and onnxruntime uses as many threads.
LFW distractors come from ``bench/.cache/lfw_arcface-s.npz`` (``bench/lfw_data.py``) when it
exists, else they are embedded here (one image per person, people spread over the alphabet).

Run:  .venv/bin/python bench/video.py [--rounds 3] [--distractors 1000] [--cores 2]
Prints a table and writes bench/results/video.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faceprint import EngineConfig, FaceEngine  # noqa: E402
from faceprint.gallery import Gallery, GalleryConfig, GalleryService, NewFace  # noqa: E402
from faceprint.video import VideoOptions, open_video, process_video  # noqa: E402

DATA = Path(os.environ.get("FACEPRINT_SHARED_DATA", ROOT.parent / "shared" / "data"))
VIDEO = DATA / "video"
RESULTS = ROOT / "bench" / "results"
CLIPS = ("short_hamilton_clip.mp4", "MOT20-05_crowd_short.mp4")
STILLS = {"lin-manuel-miranda.png": "Lin-Manuel Miranda", "alex-lacamoire.png": "Alex Lacamoire", "obama.jpg": "Barack Obama"}
EXPECTED = {"Lin-Manuel Miranda", "Alex Lacamoire", "Barack Obama"}


def distractors(engine: FaceEngine, people: int) -> tuple[list[str], np.ndarray, str]:
    """One template per LFW person for ``people`` people spread over the alphabet."""
    cache = ROOT / "bench" / ".cache" / f"lfw_{engine.pack.name}.npz"
    if cache.exists():
        z = np.load(cache, allow_pickle=False)
        first: dict[str, int] = {}
        for i, p in enumerate(str(p) for p in z["paths"]):
            if z["found"][i]:
                first.setdefault(p.split("/")[0], i)
        names = sorted(first)
        step = max(len(names) // people, 1)
        chosen = names[::step][:people]
        return chosen, z["emb"][[first[n] for n in chosen]], str(cache.relative_to(ROOT))
    sys.path.insert(0, str(ROOT / "tests"))
    from video.support import distractor_images, embed_distractors

    names, emb = embed_distractors(engine, distractor_images(DATA / "lfw", people))
    return names, emb, "embedded now (no LFW cache)"


def build_gallery(svc: GalleryService, engine: FaceEngine, people: int) -> tuple[Gallery, dict[str, object]]:
    svc.create("video-bench")
    for file, subject in STILLS.items():
        svc.enroll_one("video-bench", VIDEO / "stills" / file, subject)
    names, emb, source = distractors(engine, people)
    svc.add_embeddings("video-bench", [NewFace(embedding=v, subject=n) for n, v in zip(names, emb, strict=True)])
    g = svc.gallery("video-bench")
    return g, {"faces": g.info.face_count, "distractor_people": len(names), "distractor_source": source}


def naive(engine: FaceEngine, path: Path) -> tuple[float, int, int]:
    """Detect every frame and embed every face: (wall seconds, frames, embeddings)."""
    t0 = time.perf_counter()
    frames = embedded = 0
    with open_video(path) as video:
        for frame in video:
            faces = engine.detect(frame.image)
            if faces:
                embedded += len(engine.embed_faces([frame.image], [faces])[0])
            frames += 1
    return time.perf_counter() - t0, frames, embedded


def pin(cores: int) -> list[int]:
    try:
        mine = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, mine[:cores])
        return sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return list(range(os.cpu_count() or 1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--distractors", type=int, default=1000, help="LFW people in the gallery besides the 3 stills")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--pack", default="arcface-s")
    ap.add_argument("--out", type=Path, default=RESULTS / "video.json")
    args = ap.parse_args()
    cpus = pin(args.cores)
    threads = len(cpus)
    print(f"cores {cpus}, onnxruntime threads {threads}, load average {os.getloadavg()[0]:.1f}")

    base_engine = FaceEngine(args.pack, EngineConfig(threads=threads))  # the naive pipeline: default detector threshold
    opts = {n: VideoOptions.every(n) for n in (1, 3)}
    video_engine = FaceEngine(args.pack, EngineConfig(threads=threads, det_threshold=opts[1].analysis.tracker.low_score))
    with tempfile.TemporaryDirectory() as tmp, GalleryService(GalleryConfig(data_dir=Path(tmp)), engine=base_engine) as svc:
        t0 = time.perf_counter()
        gallery, gallery_info = build_gallery(svc, base_engine, args.distractors)
        print(f"gallery: {gallery_info['faces']} faces ({gallery_info['distractor_source']}) in {time.perf_counter() - t0:.1f} s")
        process_video(VIDEO / CLIPS[0], gallery, opts[3], engine=video_engine)  # warm-up: sessions, caches

        runs: dict[str, dict[str, list]] = {}
        last = {}
        for rnd in range(args.rounds):
            for clip in CLIPS:
                path = VIDEO / clip
                wall, frames, emb = naive(base_engine, path)
                runs.setdefault(f"{clip}|naive", {"wall": [], "emb": [], "frames": []})
                runs[f"{clip}|naive"]["wall"].append(wall)
                runs[f"{clip}|naive"]["emb"].append(emb)
                runs[f"{clip}|naive"]["frames"].append(frames)
                for n, o in opts.items():
                    r = process_video(path, gallery, o, engine=video_engine)
                    key = f"{clip}|every{n}"
                    runs.setdefault(key, {"wall": [], "emb": [], "frames": []})
                    runs[key]["wall"].append(r.stats.seconds)
                    runs[key]["emb"].append(r.stats.faces_embedded)
                    runs[key]["frames"].append(r.stats.frames)
                    last[key] = r
            print(f"round {rnd + 1}/{args.rounds} done (load {os.getloadavg()[0]:.1f})")

        report = []
        print(f"\n{'clip':28s} {'detector':>10s} {'real time x':>12s} {'vs naive':>9s} {'emb/frame':>10s} {'naive':>7s} {'cut':>6s}")
        for clip in CLIPS:
            with open_video(VIDEO / clip) as v:
                duration, size = v.info.duration_s or 0.0, f"{v.info.width}x{v.info.height}"
            nv = runs[f"{clip}|naive"]
            n_rtf = duration / statistics.median(nv["wall"])
            n_epf = nv["emb"][0] / nv["frames"][0]
            for n in opts:
                rr = runs[f"{clip}|every{n}"]
                rtfs = sorted(duration / w for w in rr["wall"])
                rtf = duration / statistics.median(rr["wall"])
                epf = rr["emb"][0] / rr["frames"][0]
                cut = n_epf / epf if epf else None  # None: nothing embedded at all
                cut_text = f"{cut:5.1f}x" if cut is not None else "  n/a"
                print(f"{clip:28s} {'every ' + str(n):>10s} {rtf:11.2f}x {rtf / n_rtf:8.2f}x {epf:10.3f} {n_epf:7.2f} {cut_text}")
                res = last[f"{clip}|every{n}"]
                report.append({
                    "clip": clip, "size": size, "duration_s": round(duration, 3), "detect_every": n,
                    "realtime_factor": round(rtf, 3), "realtime_factor_rounds": [round(x, 3) for x in rtfs],
                    "naive_realtime_factor": round(n_rtf, 3), "speedup_vs_naive": round(rtf / n_rtf, 3),
                    "embeddings": rr["emb"][0], "embeddings_per_frame": round(epf, 4),
                    "naive_embeddings": nv["emb"][0], "naive_embeddings_per_frame": round(n_epf, 4),
                    "embedding_cut": round(cut, 2) if cut is not None else None, "tracks": res.stats.tracks, "frames_detected": res.stats.frames_detected,
                    "subjects": [{"label": s.label, "known": s.known, "confidence": round(s.confidence, 2),
                                  "segments": [[round(g.start_s, 2), round(g.end_s, 2)] for g in s.segments]}
                                 for s in res.subjects],
                })  # fmt: skip

        print("\nshort_hamilton_clip.mp4, detector on every 3rd frame, against "
              f"{gallery_info['faces']} gallery faces:")  # fmt: skip
        ham = last[f"{CLIPS[0]}|every3"]
        for s in ham.subjects:
            segs = ", ".join(f"{g.start_s:.2f}-{g.end_s:.2f}" for g in s.segments)
            print(f"  {s.label:20s} {s.confidence:6.1f}  {segs}")
        known = {s.label for s in ham.subjects if s.known}
        print(f"  known subjects as expected: {known == EXPECTED}")

        t0 = time.perf_counter()
        out_video = Path(tmp) / "annotated.mp4"
        process_video(VIDEO / CLIPS[0], gallery, opts[3], engine=video_engine, out=out_video)
        with_sink = time.perf_counter() - t0
        print(f"  with the annotated copy written too: {ham.info.duration_s / with_sink:.2f}x real time")

    body = {
        "bench": "video",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "cpus_pinned": cpus, "onnxruntime_threads": threads,
                    "load_average_end": round(os.getloadavg()[0], 2)},
        "pack": args.pack, "rounds": args.rounds, "gallery": gallery_info,
        "hamilton_known_subjects_as_expected": known == EXPECTED,
        "hamilton_every3_with_annotated_copy_realtime_factor": round((ham.info.duration_s or 0) / with_sink, 3),
        "results": report,
    }  # fmt: skip
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(body, indent=2) + "\n")
    print(f"\nwrote {args.out.relative_to(ROOT) if args.out.is_relative_to(ROOT) else args.out}")


if __name__ == "__main__":
    main()
