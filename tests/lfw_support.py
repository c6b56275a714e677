"""LFW pairs for tests that need a few real same/different-person pairs."""

from __future__ import annotations

from pathlib import Path


def lfw_pairs(shared: Path, n: int) -> tuple[list[tuple[Path, Path]], list[tuple[Path, Path]]]:
    """The first ``n`` same-person and ``n`` different-person pairs of fold 1 of pairs.txt."""
    lines = [ln.split("\t") for ln in (shared / "lfw" / "pairs.txt").read_text().splitlines()[1:601]]
    root = shared / "lfw" / "images"

    def img(name: str, i: str) -> Path:
        return root / name / f"{name}_{int(i):04d}.jpg"

    same = [(img(a, i), img(a, j)) for a, i, j in lines[:n]]
    diff = [(img(a, i), img(b, j)) for a, i, b, j in lines[300 : 300 + n]]
    return same, diff
