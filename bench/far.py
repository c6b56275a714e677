"""All-vs-all impostor statistics on unit embeddings without materialising millions of scores."""

from __future__ import annotations

import math

import numpy as np


def _blocks(n: int, size: int = 1024):
    for start in range(0, n, size):
        yield start, min(start + size, n)


def pair_scores(x: np.ndarray, labels: np.ndarray, keep_top: int) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(impostor pair count, genuine pair count, top impostor scores desc, all genuine scores).

    Pairs are i<j. Each block keeps its own top ``keep_top`` impostors, so the union holds the
    global top ``keep_top`` exactly.
    """
    n_imp, tops, genuine = 0, [], []
    for a, b in _blocks(len(x)):
        s = x[a:b] @ x.T
        rows = np.arange(a, b)[:, None]
        upper = np.arange(len(x))[None, :] > rows
        same = labels[a:b, None] == labels[None, :]
        genuine.append(s[upper & same])
        imp = s[upper & ~same]
        n_imp += imp.size
        if imp.size > keep_top:
            imp = np.partition(imp, imp.size - keep_top)[-keep_top:]
        tops.append(imp)
    top = np.sort(np.concatenate(tops))[::-1]
    gen = np.concatenate(genuine)
    return n_imp, gen.size, top, gen


def threshold_at(top_desc: np.ndarray, n_impostors: int, far: float) -> float:
    """Similarity at which at most ``far`` of the impostor pairs score at or above it."""
    k = math.floor(far * n_impostors)
    if k < 1 or k >= len(top_desc):
        raise ValueError(f"FAR {far} needs more impostor pairs than {n_impostors}")
    return float((top_desc[k - 1] + top_desc[k]) / 2.0)


def count_at_or_above(x: np.ndarray, labels: np.ndarray, thresholds: list[float]) -> tuple[int, list[int], list[int], int]:
    """Impostor and genuine pair counts at or above each threshold: (n_imp, imp_counts, gen_counts, n_gen)."""
    n_imp, n_gen = 0, 0
    imp_c = [0] * len(thresholds)
    gen_c = [0] * len(thresholds)
    for a, b in _blocks(len(x)):
        s = x[a:b] @ x.T
        upper = np.arange(len(x))[None, :] > np.arange(a, b)[:, None]
        same = labels[a:b, None] == labels[None, :]
        imp, gen = s[upper & ~same], s[upper & same]
        n_imp += imp.size
        n_gen += gen.size
        for i, t in enumerate(thresholds):
            imp_c[i] += int((imp >= t).sum())
            gen_c[i] += int((gen >= t).sum())
    return n_imp, imp_c, gen_c, n_gen
