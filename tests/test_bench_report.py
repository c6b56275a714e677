"""The README's LFW figure and docs/benchmarks.md are the benchmark's JSON, not hand-typed numbers."""

from __future__ import annotations

import json
import sys

from tests.conftest import ROOT

sys.path.insert(0, str(ROOT / "bench"))
import report


def test_readme_lfw_line_is_the_product_path_json():
    snap = json.loads((ROOT / "docs" / "benchmarks.json").read_text())
    p = snap["lfw"]["arcface-s"]["product_path"]
    assert p["protocol"].startswith("FaceEngine.compare") and p["pairs"] == 6000
    line = report.readme_lfw_line(snap["lfw"])
    row = next(x for x in (ROOT / "README.md").read_text().splitlines() if x.startswith("| LFW 10-fold, arcface-s"))
    assert line in row, f"README row {row!r} does not quote {line!r}: run bench/report.py"


def test_benchmarks_page_is_generated_from_the_json():
    snap = json.loads((ROOT / "docs" / "benchmarks.json").read_text())
    page = (ROOT / "docs" / "benchmarks.md").read_text()
    assert "\n".join(report.lfw_section(snap["lfw"])) in page
    if "nonface" in snap:
        assert "\n".join(report.nonface_section(snap["nonface"])) in page
