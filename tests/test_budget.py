"""The process-wide decode budget: reservations wait briefly, then are refused; real decodes reserve."""

from __future__ import annotations

import threading
import time

import pytest

from faceprint import budget
from faceprint.budget import BudgetConfig, DecodeBudget
from faceprint.errors import DecodeBusy, ImageTooLarge
from faceprint.image import decode_bytes

MB = 1 << 20


def test_over_budget_waits_then_is_refused():
    b = DecodeBudget(BudgetConfig(budget_mb=100, wait_s=0.3))
    with b.reserve(80 * MB):
        t = time.perf_counter()
        with pytest.raises(DecodeBusy) as err, b.reserve(30 * MB):
            pass
        assert time.perf_counter() - t >= 0.25 and err.value.code == "CONCURRENCY_LIMIT_EXCEEDED"
        with b.reserve(20 * MB):  # what fits goes at once
            assert b.in_use == 100 * MB
    assert b.in_use == 0 and b.peak == 100 * MB


def test_a_waiting_decode_goes_when_another_ends():
    b = DecodeBudget(BudgetConfig(budget_mb=100, wait_s=5.0))
    started = threading.Event()

    def hold() -> None:
        with b.reserve(90 * MB):
            started.set()
            time.sleep(0.3)

    t = threading.Thread(target=hold)
    t.start()
    started.wait()
    with b.reserve(50 * MB):
        assert b.in_use == 50 * MB
    t.join()


def test_one_decode_larger_than_the_budget_is_refused_at_once():
    b = DecodeBudget(BudgetConfig(budget_mb=10, wait_s=5.0))
    t = time.perf_counter()
    with pytest.raises(ImageTooLarge), b.reserve(11 * MB):
        pass
    assert time.perf_counter() - t < 0.1


def test_image_decodes_reserve_from_the_process_budget(photos):
    """A budget smaller than one photo's decode refuses it; the default budget decodes it."""
    data = (photos / "obama.jpg").read_bytes()
    old = budget.decode_budget()
    try:
        budget.configure(BudgetConfig(budget_mb=1, wait_s=0.0))
        with pytest.raises(ImageTooLarge):
            decode_bytes(data)
        b = budget.configure(BudgetConfig())
        assert decode_bytes(data).ndim == 3 and b.peak > 1 * MB and b.in_use == 0
    finally:
        budget.configure(old.config)


def test_decoded_pixels_stay_reserved_until_the_holding_scope_ends(photos):
    """Inside holding() the BGR result's share outlives the decode; the intermediates' share does not."""
    data = (photos / "obama.jpg").read_bytes()
    old = budget.decode_budget()
    try:
        b = budget.configure(BudgetConfig())
        with budget.holding():
            img = decode_bytes(data)
            assert b.in_use == img.nbytes < b.peak  # the result still counts, the decode's extra is back
            other = decode_bytes(data)
            assert b.in_use == img.nbytes + other.nbytes
        assert b.in_use == 0
        decode_bytes(data)  # outside a scope (a library call): nothing stays once the decode returns
        assert b.in_use == 0
    finally:
        budget.configure(old.config)


def test_a_thread_started_inside_the_scope_holds_into_it_and_a_late_decode_is_not_leaked():
    """Work run on a worker thread (the service's to_thread) shares the scope; a decode ending after
    its scope closed (a timed-out request's thread) gives everything back at once."""
    import contextvars

    b = DecodeBudget(BudgetConfig(budget_mb=100, wait_s=0.0))

    def decode(keep: int) -> None:
        with b.reserve(30 * MB) as r:
            r.keep(keep)

    with budget.holding():
        t = threading.Thread(target=contextvars.copy_context().run, args=(decode, 10 * MB))
        t.start()
        t.join()
        assert b.in_use == 10 * MB
        late = contextvars.copy_context()
    assert b.in_use == 0
    late.run(decode, 10 * MB)  # its hold is closed: nothing kept
    assert b.in_use == 0


def test_held_pixels_make_the_next_decode_wait_then_refuse():
    b = DecodeBudget(BudgetConfig(budget_mb=100, wait_s=0.2))
    with budget.holding():
        with b.reserve(90 * MB) as r:
            r.keep(80 * MB)
        with pytest.raises(DecodeBusy), b.reserve(30 * MB):
            pass
    with b.reserve(30 * MB):
        assert b.in_use == 30 * MB
