"""The spec strings every backend reads, parsed once."""

from __future__ import annotations

import pytest

from faceprint.errors import InvalidIndexSpec
from faceprint.index import IndexSpec, check_spec, parse_spec
from faceprint.index.specs import FORMS, register_form


def test_specs_parse_to_their_kind_and_canonical_spelling() -> None:
    assert parse_spec("Flat") == IndexSpec("Flat", "Flat")
    s = parse_spec("IVF1024_HNSW32,PQ64x4fs,Refine")
    assert (s.kind, s.nlist, s.hnsw, s.m, s.refine, s.text) == ("IVFPQ", 1024, 32, 64, True, "IVF1024_HNSW32,PQ64x4fs,Refine")
    assert parse_spec("IVF16_HNSW0,PQ8x4fs").text == "IVF16,PQ8x4fs"


@pytest.mark.parametrize("bad", ["HNSW32", "flat", "Flat,Refine", "auto", "IVF0,PQ8x4fs", "IVF16,PQ0x4fs", f"IVF{(1 << 20) + 1},PQ8x4fs", ""])
def test_unknown_or_impossible_specs_are_refused(bad: str) -> None:
    with pytest.raises(InvalidIndexSpec) as exc:
        parse_spec(bad)
    assert exc.value.code == "INVALID_INDEX_SPEC" and exc.value.http_status == 400
    assert exc.value.details["spec"] == bad


def test_the_error_names_every_form() -> None:
    with pytest.raises(InvalidIndexSpec, match=r"known forms: auto, Flat, IVF1024,PQ64x4fs,Refine"):
        parse_spec("HNSW32")


def test_check_spec_knows_auto_and_the_dimension() -> None:
    assert check_spec("auto", 64) == "auto" and check_spec("IVF8,PQ16x4fs", 64) == "IVF8,PQ16x4fs"
    with pytest.raises(InvalidIndexSpec, match="multiple of 7"):
        check_spec("IVF8,PQ7x4fs", 64)


def test_a_new_form_registers_without_touching_the_parser() -> None:
    register_form("TestLSH", r"LSH(?P<bits>\d+)", lambda m: IndexSpec(m.string, "TestLSH", m=0), "LSH256")
    try:
        assert parse_spec("LSH256").kind == "TestLSH"
        with pytest.raises(InvalidIndexSpec, match="LSH256"):
            parse_spec("nope")
    finally:
        FORMS.unregister("TestLSH")
