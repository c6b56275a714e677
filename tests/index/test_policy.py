"""IndexPolicy: what ``auto`` resolves to as a gallery grows and shrinks, and how hard a search looks."""

from __future__ import annotations

from faceprint.index import IndexPolicy, SearchParams


def test_auto_turns_ivf_at_the_limit_and_back_to_exact_below_half() -> None:
    pol = IndexPolicy(exact_limit=1000)
    assert pol.choose("Flat", 10**6, 64) == "Flat"  # a named spec is kept whatever the size
    assert pol.choose("IVF8,PQ16x4fs", 10, 64) == "IVF8,PQ16x4fs"
    assert pol.choose("auto", 999, 64) == "Flat"
    ivf = pol.choose("auto", 1000, 64, "Flat")
    assert ivf == "IVF16,PQ8x4fs,Refine"  # ~sqrt(n) lists, each trained on 40+ faces; PQ of D/8 sub-vectors
    assert pol.choose("auto", 700, 64, ivf) == ivf  # hysteresis: stays IVF above half the limit
    assert pol.choose("auto", 499, 64, ivf) == "Flat"
    assert pol.choose("auto", 700, 64, "Flat") == "Flat"  # and does not turn IVF below the limit


def test_an_ivf_index_is_kept_while_its_lists_are_within_4x() -> None:
    pol = IndexPolicy(exact_limit=1000)
    assert pol.choose("auto", 4_000_000, 512) == "IVF2048,PQ64x4fs,Refine"
    assert pol.choose("auto", 4_000_000, 512, "IVF1024,PQ64x4fs,Refine") == "IVF1024,PQ64x4fs,Refine"
    assert pol.choose("auto", 4_000_000, 512, "IVF256,PQ64x4fs,Refine") == "IVF2048,PQ64x4fs,Refine"
    assert pol.choose("auto", 4_000, 100) == "IVF64,PQ25x4fs,Refine"  # D not a multiple of 8: D/4 sub-vectors


def test_search_params_visit_a_fraction_of_the_lists_unless_set() -> None:
    assert IndexPolicy().search_params(0) == SearchParams()  # not IVF: nothing to tune
    assert IndexPolicy(nprobe_fraction=0.25).search_params(64).nprobe == 16
    assert IndexPolicy(params=SearchParams(nprobe=5)).search_params(64).nprobe == 5
