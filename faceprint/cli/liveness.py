"""``faceprint liveness CLIP --challenge blink,left``: challenge-response liveness on a local clip.

Exit 0: live (and, with ``--reference``, the same person); 1: rejected, with every reason code;
2: the clip or an option could not be used (an error code, never a traceback).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from .output import console, engine_factory, handled, print_json
from .state import DataOpt

if TYPE_CHECKING:
    from ..liveness.flow import FaceIDResult

PackOpt = typer.Option(None, "--pack", envvar="FACEPRINT_PACK", help="Model pack (see `faceprint models`).")


def liveness(
    clip: Path = typer.Argument(..., help="A short video of one face performing the challenge."),
    challenge: str = typer.Option(
        ..., "--challenge", "-c", help="Actions in order, e.g. blink,left (left/right: the subject's own)."
    ),
    reference: Path | None = typer.Option(None, "--reference", "-r", help="Also compare the live face with this photo."),
    pad: str = typer.Option("auto", "--pad", help="Passive detector: auto (minifasnet when installed, else glare), "
                            "minifasnet, glare, moire or none; see docs/liveness.md."),
    enforce_pad: bool | None = typer.Option(None, "--enforce-pad/--report-pad", help="Let the passive verdict reject "
                                               "the clip, or only report it (default: enforce a trained detector only)."),
    data: Path | None = DataOpt,
    far: str = typer.Option("1e-4", "--far", help="Operating point of the reference comparison: 1e-3, 1e-4 or 1e-5."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
    pack: str | None = PackOpt,
) -> None:
    """Verify a clip against a challenge: events, order, timing, one face, same person throughout."""
    with handled(as_json):
        from ..liveness import FrameSequence, parse_actions
        from ..liveness.flow import FaceIDFlow, FlowConfig

        actions = parse_actions(challenge)
        from ..liveness.pad import PADOptions

        config = FlowConfig(pad_detector=None if pad == "none" else pad, pad_enforce=enforce_pad, far=far,
                            pad_options=PADOptions(data_dir=data))  # fmt: skip
        seq = FrameSequence.from_video(clip)
        flow = FaceIDFlow(engine_factory(pack)(), config=config)
        ref = flow.reference_from_image(reference) if reference is not None else None
        result = flow.judge(actions, seq, None if ref is None else ref.embedding, None if ref is None else {"kind": "image"})
    if as_json:
        print_json({"clip": str(clip), **result.to_dict()})
    else:
        _print(clip, result)
    raise typer.Exit(0 if result.decision else 1)


def _print(clip: Path, result: FaceIDResult) -> None:
    live = result.liveness
    st = live.stats
    console.print(f"{clip}: {int(st.get('frames', 0))} frames, {st.get('duration_s', 0):.2f} s, "
                  f"{st.get('fps', 0):.1f} fps; face seen in {st.get('seen', 0):.0%} of frames")  # fmt: skip
    table = Table(title="challenge")
    for col in ("#", "action", "event", "at (s)"):
        table.add_column(col)
    for i, (a, e) in enumerate(zip(live.actions, live.matched, strict=True)):
        table.add_row(str(i + 1), a.value, "[green]seen[/]" if e else "[red]missing[/]", f"{e.start:.2f}" if e else "")
    console.print(table)
    if live.events:
        console.print("events: " + ", ".join(f"{e.action.value}@{e.start:.2f}s" + ("(under way at start)" if e.truncated else "")
                                             for e in live.events))  # fmt: skip
    if result.pad is not None:
        p = result.pad
        verdict = "looks like an attack" if p.attack else "no attack seen"
        prob = "" if p.live_probability is None else f"live probability {p.live_probability:.3f}, "
        role = "it decides" if result.pad_enforced else "reported only; --enforce-pad lets it decide"
        console.print(f"passive check {p.detector} over {p.frames} frames: {prob}score {p.score:.3f}, {verdict} "
                      f"(threshold {p.threshold:g}; {role})")  # fmt: skip
    if result.compare is not None:
        c = result.compare
        console.print(f"reference: confidence {c['confidence']:.2f} (threshold at FAR {c['far']}: {c['thresholds'][c['far']]:.2f}) "
                      f"on frame {c['frame']} -> {'[green]same person[/]' if c['match'] else '[red]not the same person[/]'}")  # fmt: skip
    for f in live.failures:
        console.print(f"[red]{f.reason.value}[/]: {f.message}")
    for r in result.reasons:
        if r not in live.reasons:
            console.print(f"[red]{r}[/]")
    console.print("[bold green]LIVE[/]" if result.decision else "[bold red]REJECTED[/]")


def register(app: typer.Typer) -> None:
    app.command()(liveness)
