"""Logging in over real HTTP: a revoked or unknown key answers as a wrong secret does, and a flood is refused cheaply."""

from __future__ import annotations

import secrets
import statistics
import threading
import time

import httpx
import pytest

from faceprint.service.errors import AuthenticationError
from faceprint.service.failures import FailureLimiter, FailurePolicy
from faceprint.service.keys import KeyStore

from .support import Server, make_key


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("auth"))
    yield srv
    srv.stop()


def _post(c, auth: dict[str, str]):
    t = time.perf_counter()
    r = c.post("/facepp/v3/faceset/getfacesets", data=auth)
    return r, time.perf_counter() - t


def _answer(r) -> tuple[int, str, str]:
    body = r.json()
    return r.status_code, body["error_message"], body["error_detail"]


def _cases(keys: KeyStore, c: httpx.Client) -> dict[str, dict[str, str]]:
    """A wrong secret for a live key, a revoked key's right secret (proven before it was revoked), an unknown key."""
    live, live_secret = keys.create("live", ("faceset:read",), 100)
    gone, gone_secret = keys.create("gone", ("faceset:read",), 100)
    assert _post(c, {"api_key": gone.api_key, "api_secret": gone_secret})[0].status_code == 200  # proven, cached
    keys.revoke(gone.api_key)
    return {
        "wrong secret": {"api_key": live.api_key, "api_secret": live_secret[:-2] + "xx"},
        "revoked, right secret": {"api_key": gone.api_key, "api_secret": gone_secret},
        "unknown key": {"api_key": "fpk_" + secrets.token_urlsafe(18), "api_secret": live_secret},
    }


@pytest.mark.serial  # a wall-clock bound: run alone (Makefile, docs/development.md)
def test_revoked_unknown_and_wrong_secret_answer_alike_in_the_same_time(server):
    times: dict[str, list[float]] = {"wrong secret": [], "revoked, right secret": [], "unknown key": []}
    answers: dict[str, set] = {name: set() for name in times}
    keys = KeyStore(server.data)
    last = 0.0
    for n in range(9):  # interleaved, so load from elsewhere falls on every case alike; each round its own
        # keys and its own loopback address, and at most 3 failures a second (the process-wide bucket
        # refills 4 a second), so the failure limit stays out of it
        with httpx.Client(base_url=server.url, timeout=60, transport=httpx.HTTPTransport(local_address=f"127.0.0.{10 + n}")) as c:
            cases = list(_cases(keys, c).items())
            for name, auth in cases[n % 3 :] + cases[: n % 3]:  # each case first, second and third in turn
                time.sleep(max(0.0, last + 1 / 3 - time.perf_counter()))
                last = time.perf_counter()
                r, took = _post(c, auth)
                answers[name].add(_answer(r))
                times[name].append(took)
    keys.close()
    assert answers["wrong secret"] == {(401, "AUTHENTICATION_ERROR", "api_key and api_secret do not match")}
    assert answers["revoked, right secret"] == answers["unknown key"] == answers["wrong secret"]
    # Paired within each round (adjacent in time, so the machine's load drifts out): the median ratio.
    ratio = {name: statistics.median(a / b for a, b in zip(times[name], times["wrong secret"], strict=True)) for name in times}
    for name in ("revoked, right secret", "unknown key"):
        assert abs(ratio[name] - 1) <= 0.2, (ratio, times)


def test_once_the_limit_answers_revoked_unknown_and_wrong_secret_still_answer_alike(server):
    """From an address whose failure bucket is empty, all three get the same 429, whatever the key's state."""
    keys = KeyStore(server.data)
    answers: dict[str, set] = {}
    with httpx.Client(base_url=server.url, timeout=60, transport=httpx.HTTPTransport(local_address="127.0.0.240")) as c:
        cases = _cases(keys, c)
        for _ in range(12):  # the address's burst (10) spent on unknown names
            _post(c, {"api_key": "fpk_" + secrets.token_urlsafe(18), "api_secret": "x"})
        for _ in range(3):
            for name, auth in cases.items():
                answers.setdefault(name, set()).add(_answer(_post(c, auth)[0]))
    keys.close()
    limited = {(429, "AUTHENTICATION_RATE_LIMITED", "too many failed logins for this api_key or from this address; wait and retry")}
    assert answers["wrong secret"] == answers["revoked, right secret"] == answers["unknown key"] == limited, answers


def test_revoked_unknown_and_wrong_secret_spend_the_same_failure_tokens(tmp_path):
    """The limit's counters cannot tell the three apart: whichever comes first, the third failure from
    an address with a burst of 2 is the one refused."""
    import itertools

    now = [0.0]
    for order in itertools.permutations(("wrong", "revoked", "unknown")):
        limiter = FailureLimiter(FailurePolicy(per_address_burst=2, per_address_rate=0.001), clock=lambda: now[0])
        keys = KeyStore(tmp_path, limiter)
        live, _ = keys.create("live", ("detect",), 10)
        gone, gone_secret = keys.create("gone", ("detect",), 10)
        keys.authenticate(gone.api_key, gone_secret, "10.0.0.8")  # proven, then revoked
        keys.revoke(gone.api_key)
        attempt = {"wrong": (live.api_key, "guess"), "revoked": (gone.api_key, gone_secret), "unknown": ("fpk_" + secrets.token_urlsafe(18), "guess")}
        codes = []
        for kind in order:
            with pytest.raises(AuthenticationError) as err:
                keys.authenticate(*attempt[kind], "10.0.0.7")
            codes.append((err.value.code, err.value.message))
        keys.close()
        assert [c for c, _ in codes] == ["AUTHENTICATION_ERROR", "AUTHENTICATION_ERROR", "AUTHENTICATION_RATE_LIMITED"], order
        assert codes[0] == codes[1]


@pytest.mark.serial  # a wall-clock bound: run alone (Makefile, docs/development.md)
def test_a_failed_login_flood_is_refused_cheaply_while_a_proven_key_keeps_working(server):
    victim, other = make_key(server.data, "faceset:read"), make_key(server.data, "faceset:read")
    wrong = {"api_key": victim.api_key, "api_secret": "guess"}
    with server.client() as c:
        assert _post(c, victim.auth)[0].status_code == 200
        flood = [_post(c, wrong) for _ in range(40)]
        codes = [r.status_code for r, _ in flood]
        refused = [(r, took) for r, took in flood if r.status_code == 429]
        assert set(codes) == {401, 429} and len(refused) >= 25, codes
        assert {r.json()["error_message"] for r, _ in refused} == {"AUTHENTICATION_RATE_LIMITED"}
        slow = statistics.median(took for r, took in flood if r.status_code == 401)
        assert statistics.median(took for _, took in refused) < slow / 2  # no scrypt for a refused attempt
        assert _post(c, victim.auth)[0].status_code == 200  # the key under attack still works for its client
        assert _post(c, other.auth)[0].status_code == 200  # another key's first login: one key's flood stays its own
    lines = (server.data / "audit.log").read_text()
    assert '"outcome":"AUTHENTICATION_RATE_LIMITED"' in lines


def test_failures_are_limited_per_key_name_and_per_address(tmp_path):
    now = [0.0]
    limiter = FailureLimiter(FailurePolicy(per_key_burst=3, per_key_rate=1, per_address_burst=5, per_address_rate=1), clock=lambda: now[0])
    keys = KeyStore(tmp_path, limiter)
    key, secret = keys.create("k", ("detect",), 10)
    for _ in range(3):
        with pytest.raises(AuthenticationError) as err:
            keys.authenticate(key.api_key, "wrong", "10.0.0.1")
        assert err.value.code == "AUTHENTICATION_ERROR"
    for addr in ("10.0.0.1", "10.0.0.2"):  # the key name is spent, from any address
        with pytest.raises(AuthenticationError) as err:
            keys.authenticate(key.api_key, secret, addr)
        assert err.value.code == "AUTHENTICATION_RATE_LIMITED" and err.value.http_status == 429
    for name in ("fpk_a", "fpk_b"):  # unknown names spend the address too
        with pytest.raises(AuthenticationError):
            keys.authenticate(name, "x", "10.0.0.1")
    with pytest.raises(AuthenticationError) as err:
        keys.authenticate("fpk_c", "x", "10.0.0.1")
    assert err.value.code == "AUTHENTICATION_RATE_LIMITED"  # 5 failures from 10.0.0.1
    now[0] += 1.0  # a second later, one more try each
    assert keys.authenticate(key.api_key, secret, "10.0.0.3").api_key == key.api_key
    assert keys.authenticate(key.api_key, secret, "10.0.0.1").api_key == key.api_key  # proven: no limit applies
    keys.close()


def test_metrics_answer_only_the_operators_metrics_key(server):
    ops, admin = make_key(server.data, "metrics"), make_key(server.data, "admin")
    with server.client() as c:
        r = c.get("/metrics")
        assert r.status_code == 401 and r.json()["error_message"] == "AUTHENTICATION_ERROR"
        assert "faceprint_gallery_faces" not in r.text
        r = c.get("/metrics", auth=(admin.api_key, admin.api_secret))  # a tenant's admin sees no other tenant
        assert r.status_code == 403 and r.json()["error_message"] == "AUTHORIZATION_ERROR: Denied. Needs scope metrics"
        r = c.get("/metrics", auth=(ops.api_key, ops.api_secret))  # HTTP Basic, as Prometheus' basic_auth sends it
        assert r.status_code == 200 and "faceprint_gallery_faces" in r.text and "faceprint_requests_total" in r.text
        assert c.get("/metrics", params=ops.auth).status_code == 200
        assert c.get("/metrics", auth=(ops.api_key, "wrong")).status_code == 401
        r = c.post("/admin/keys/create", data={**admin.auth, "name": "x", "scopes": "detect,metrics"})
        assert r.status_code == 403 and r.json()["error_message"] == "AUTHORIZATION_ERROR: scopes"
    assert '"endpoint":"metrics","faceset":null,"faces":0,"results":0,"outcome":"ok"' in (server.data / "audit.log").read_text()


def test_concurrent_attempts_cannot_all_slip_past_the_limit_while_their_scrypts_run(tmp_path):
    keys = KeyStore(tmp_path, FailureLimiter(FailurePolicy(per_key_burst=3, per_key_rate=0.001)))
    key, _ = keys.create("k", ("detect",), 10)
    barrier, codes = threading.Barrier(12), []

    def attempt() -> None:
        barrier.wait()
        try:
            keys.authenticate(key.api_key, "wrong", "10.0.0.9")
        except AuthenticationError as exc:
            codes.append(exc.code)

    threads = [threading.Thread(target=attempt) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(codes) == ["AUTHENTICATION_ERROR"] * 3 + ["AUTHENTICATION_RATE_LIMITED"] * 9
    keys.close()
