"""Challenge sessions: random actions, single-use nonces, expiry, the stored reference."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from faceprint.errors import FaceprintError
from faceprint.liveness import Action, SessionStore, parse_actions, random_actions
from faceprint.liveness.errors import InvalidChallenge, NonceReused, NonceUnknown, SessionExpired


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_random_challenges_have_2_to_4_distinct_actions():
    seen_lengths, seen_actions = set(), set()
    for _ in range(300):
        acts = random_actions()
        assert 2 <= len(acts) <= 4 and len(set(acts)) == len(acts)
        seen_lengths.add(len(acts))
        seen_actions.update(acts)
    assert seen_lengths == {2, 3, 4} and seen_actions == set(Action)


def test_parse_actions_names_aliases_and_errors():
    assert parse_actions("blink,left") == (Action.BLINK, Action.TURN_LEFT)
    assert parse_actions(["Turn Right", "mouth", "smile"]) == (Action.TURN_RIGHT, Action.OPEN_MOUTH, Action.SMILE)
    for bad in ("blink,wink", "blink,blink", "", "blink,left,right,nod,smile"):
        with pytest.raises(InvalidChallenge) as exc:
            parse_actions(bad)
        assert exc.value.code == "INVALID_CHALLENGE" and exc.value.http_status == 400


def test_a_nonce_is_spent_once_then_reused_is_refused(tmp_path):
    store = SessionStore(tmp_path / "liveness.db")
    issued = store.issue(tenant="t1")
    assert store.consume(issued.nonce, tenant="t1").actions == issued.challenge.actions
    with pytest.raises(NonceReused) as exc:
        store.consume(issued.nonce, tenant="t1")
    assert exc.value.code == "NONCE_REUSED"


def test_expired_sessions_are_refused_and_spent():
    clock = Clock()
    store = SessionStore(clock=clock)
    issued = store.issue(ttl_s=60)
    clock.now += 61
    with pytest.raises(SessionExpired) as exc:
        store.consume(issued.nonce)
    assert exc.value.code == "SESSION_EXPIRED"
    with pytest.raises(NonceReused):  # an expired session cannot be retried either
        store.consume(issued.nonce)


def test_unknown_and_other_tenants_nonces_are_unknown():
    store = SessionStore()
    issued = store.issue(tenant="t1")
    for nonce, tenant in (("x" * 32, "t1"), (issued.nonce, "t2"), ("", "t1"), ("y" * 500, "t1")):
        with pytest.raises(NonceUnknown) as exc:
            store.consume(nonce, tenant=tenant)
        assert exc.value.code == "NONCE_UNKNOWN"
    store.consume(issued.nonce, tenant="t1")  # still unspent after the failed attempts


def test_the_database_holds_no_nonce_and_forgets_the_reference(tmp_path):
    path = tmp_path / "liveness.db"
    store = SessionStore(path)
    ref = np.linspace(-1, 1, 512).astype(np.float32)
    issued = store.issue(reference=ref, reference_info={"kind": "image"})
    store.close()
    store = SessionStore(path)
    got = store.consume(issued.nonce)
    np.testing.assert_array_equal(got.reference, ref)
    assert got.reference_info == {"kind": "image"}
    store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert issued.nonce.encode() not in raw
    assert ref.tobytes()[:64] not in raw  # erased on consume (secure_delete zeroes freed pages)


def test_concurrent_verifications_of_one_nonce_have_one_winner(tmp_path):
    store = SessionStore(tmp_path / "liveness.db")
    issued = store.issue()
    wins, codes = [], []
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        try:
            store.consume(issued.nonce)
            wins.append(1)
        except FaceprintError as exc:
            codes.append(exc.code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(wins) == 1 and codes == ["NONCE_REUSED"] * 7


def test_purge_deletes_long_expired_sessions():
    clock = Clock()
    store = SessionStore(clock=clock)
    old = store.issue(ttl_s=10)
    fresh = store.issue(ttl_s=200_000)
    clock.now += 10 + 86400 + 1
    assert store.purge() == 1
    with pytest.raises(NonceUnknown):
        store.consume(old.nonce)
    store.consume(fresh.nonce)


def test_bad_session_requests():
    store = SessionStore()
    with pytest.raises(InvalidChallenge):
        store.issue((Action.BLINK, Action.BLINK))
    with pytest.raises(InvalidChallenge):
        store.issue(ttl_s=0)


def test_a_sealed_reference_is_ciphertext_at_rest_and_bound_to_its_session(tmp_path):
    from faceprint.errors import EncryptionKeyError
    from faceprint.gallery.crypto import Cipher

    path = tmp_path / "liveness.db"
    store = SessionStore(path, cipher=Cipher(bytes(range(32))))
    ref = np.linspace(-1, 1, 512).astype(np.float32)
    a, b = store.issue(reference=ref), store.issue(reference=ref[::-1].copy())
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert not any(ref.tobytes()[i : i + 16] in raw for i in range(0, 2048, 16))  # not even while open
    with store.db.write() as c:  # swap the two sealed blobs: each is bound to its own row
        blobs = dict(c.execute("SELECT nonce_hash, reference FROM liveness_sessions").fetchall())
        (ka, va), (kb, vb) = blobs.items()
        c.execute("UPDATE liveness_sessions SET reference=? WHERE nonce_hash=?", (vb, ka))
        c.execute("UPDATE liveness_sessions SET reference=? WHERE nonce_hash=?", (va, kb))
    with pytest.raises(EncryptionKeyError):
        store.consume(a.nonce)
    with store.db.write() as c:  # put them back
        c.execute("UPDATE liveness_sessions SET reference=? WHERE nonce_hash=?", (vb, kb))
    np.testing.assert_array_equal(store.consume(b.nonce).reference, ref[::-1])
    store.close()


def test_spending_and_purging_truncate_the_wal_while_the_store_stays_open(tmp_path):
    clock = Clock()
    store = SessionStore(tmp_path / "liveness.db", clock=clock)
    ref = np.linspace(-1, 1, 512).astype(np.float32)
    spent, left = store.issue(reference=ref, ttl_s=10), store.issue(reference=ref[::-1].copy(), ttl_s=10)
    assert store.next_expiry() == clock.now + 10
    store.consume(spent.nonce)
    assert (tmp_path / "liveness.db-wal").stat().st_size == 0
    clock.now += 11
    store.purge()  # the unspent one expired: its reference goes, the row stays (so it still reads as expired)
    assert store.next_expiry() is None and (tmp_path / "liveness.db-wal").stat().st_size == 0
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir())
    assert not any(v.tobytes()[i : i + 16] in raw for v in (ref, ref[::-1]) for i in range(0, 2048, 16))
    with pytest.raises(SessionExpired):
        store.consume(left.nonce)
    store.close()
