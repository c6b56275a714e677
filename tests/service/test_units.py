"""Library-level pieces of the service: keys, token buckets, URL checks, landmarks, batching, face tokens."""

from __future__ import annotations

import asyncio
import http.server
import sqlite3
import threading

import numpy as np
import pytest

from faceprint.errors import InvalidFaceToken
from faceprint.service import landmarks
from faceprint.service.batching import MicroBatcher, analyse
from faceprint.service.config import BatchPolicy, UrlPolicy
from faceprint.service.errors import AuthenticationError, ConcurrencyLimitExceeded, InvalidImageUrl
from faceprint.service.fetch import check_url, fetch
from faceprint.service.keys import KeyStore, check_secret, hash_secret
from faceprint.service.ratelimit import RateLimiter
from faceprint.service.tokens import TokenStore


# -- keys ----------------------------------------------------------------------------------------------
def test_scrypt_hashes_are_salted_and_checked(tmp_path):
    a, b = hash_secret("s3cret"), hash_secret("s3cret")
    assert a != b and check_secret("s3cret", a) and not check_secret("s3cret!", a) and not check_secret("s3cret", "garbage")
    store = KeyStore(tmp_path)
    key, secret = store.create("n", ("detect",), 5)
    assert store.authenticate(key.api_key, secret).tenant == key.api_key
    assert store.authenticate(key.api_key, secret).api_key == key.api_key  # the cached path
    with pytest.raises(AuthenticationError):
        store.authenticate(key.api_key, secret + "x")  # a cached good secret does not admit a bad one
    store.revoke(key.api_key)
    with pytest.raises(AuthenticationError):
        store.authenticate(key.api_key, secret)


# -- rate limits ---------------------------------------------------------------------------------------
def test_token_bucket_refills_at_qps():
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    for _ in range(4):
        limiter.check("k", 4)  # a burst of qps
    with pytest.raises(ConcurrencyLimitExceeded):
        limiter.check("k", 4)
    limiter.check("other", 4)  # buckets are per key
    now[0] += 0.25
    limiter.check("k", 4)
    with pytest.raises(ConcurrencyLimitExceeded):
        limiter.check("k", 4)


# -- image_url -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url, policy",
    [
        ("http://example.com/a.jpg", UrlPolicy()),  # off by default
        ("http://evil.example/a.jpg", UrlPolicy(allow_hosts=("example.com",))),
        ("file:///etc/passwd", UrlPolicy(allow_hosts=("localhost",))),
        ("http://user:pw@localhost/a.jpg", UrlPolicy(allow_hosts=("localhost",))),
        ("http://localhost/a.jpg", UrlPolicy(allow_hosts=("localhost",))),  # resolves to loopback
        ("http://127.1/a.jpg", UrlPolicy(allow_hosts=("127.1",))),  # still 127.0.0.1
        ("http://[::ffff:127.0.0.1]/a.jpg", UrlPolicy(allow_hosts=("::ffff:127.0.0.1",))),
        ("http://169.254.169.254/latest/meta-data", UrlPolicy(allow_hosts=("169.254.169.254",), allow_private=False)),
    ],
)
def test_check_url_refuses(url, policy):
    if url.startswith("http://169.254"):
        policy = UrlPolicy(allow_hosts=("metadata.internal",))
        url = "http://metadata.internal/latest"
    with pytest.raises(InvalidImageUrl):
        check_url(url, policy)


def test_explicitly_allow_listed_loopback_address_is_fetched_with_limits(photos):
    body = (photos / "obama.jpg").read_bytes()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path == "/redirect":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/")
                self.end_headers()
                return
            self.send_response(200)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    port = httpd.server_address[1]
    try:
        policy = UrlPolicy(allow_hosts=("127.0.0.1",))
        assert fetch(f"http://127.0.0.1:{port}/obama.jpg", policy) == body
        with pytest.raises(InvalidImageUrl):
            fetch(f"http://127.0.0.1:{port}/redirect", policy)  # redirects are not followed
        from faceprint.errors import ImageTooLarge

        with pytest.raises(ImageTooLarge):
            fetch(f"http://127.0.0.1:{port}/obama.jpg", UrlPolicy(allow_hosts=("127.0.0.1",), max_bytes=1000))
    finally:
        httpd.shutdown()


# -- landmarks -----------------------------------------------------------------------------------------
def test_landmark_tables():
    assert len(landmarks.POINTS_106) == 106 and len(landmarks.POINTS_83) == 83
    assert sorted(landmarks.POINTS_106.values()) == list(range(106))


@pytest.mark.parametrize("photo", ["obama.jpg", "obama2.jpg", "biden.jpg"])
def test_named_landmarks_sit_where_their_names_say(engine, photos, photo):
    face = engine.detect(photos / photo, landmarks=True)[0]
    p = landmarks.named(face.landmarks, 2)
    x, y = (lambda n: p[n][0]), (lambda n: p[n][1])
    assert x("left_eye_left_corner") < x("left_eye_center") < x("left_eye_right_corner") < x("right_eye_left_corner")
    assert x("right_eye_left_corner") < x("right_eye_center") < x("right_eye_right_corner")
    assert np.hypot(x("left_eye_center") - face.kps[0][0], y("left_eye_center") - face.kps[0][1]) < 0.15 * face.width
    assert y("left_eye_top") < y("left_eye_center") < y("left_eye_bottom")
    assert y("left_eyebrow_upper_middle") < y("left_eyebrow_lower_middle") < y("left_eye_top")
    assert y("nose_bridge1") < y("nose_bridge3") < y("nose_tip")
    assert x("nose_left_contour3") < x("nose_tip") < x("nose_right_contour3")
    assert y("mouth_upper_lip_top") < y("mouth_upper_lip_bottom") < y("mouth_lower_lip_bottom")
    assert y("mouth_lower_lip_top") > y("mouth_upper_lip_bottom") - 2  # touching when the mouth is closed
    assert x("mouth_left_corner") < x("mouth_upper_lip_top") < x("mouth_right_corner")
    assert y("contour_chin") > max(v[1] for v in p.values()) - 0.05 * face.height  # the lowest point, give or take tilt
    assert y("contour_left1") < y("contour_left8") < y("contour_left16") and x("contour_left1") < x("contour_right1")
    p83 = landmarks.named(face.landmarks, 1)
    assert len(p83) == 83 and p83["left_eye_center"] == p["left_eye_center"]
    lo, hi = p["left_eyebrow_upper_right_corner"], p["left_eyebrow_lower_right_corner"]
    assert np.allclose(p83["left_eyebrow_right_corner"], ((lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2))


# -- batching ------------------------------------------------------------------------------------------
def test_batched_requests_get_the_same_faces_as_one_at_a_time(engine, photos, shared):
    paths = [photos / "obama.jpg", photos / "biden.jpg", shared / "detect" / "misc" / "face_recognition_two_people.jpg", photos / "obama2.jpg"]
    imgs = [engine.load(p) for p in paths] * 2
    alone = [analyse(engine, [im])[0] for im in imgs]
    sizes: list[int] = []
    batcher = MicroBatcher(engine, BatchPolicy(True, window_ms=50, max_batch=16), sizes.append)

    async def all_at_once():
        return await asyncio.gather(*(batcher.faces(im) for im in imgs))

    try:
        together = asyncio.run(all_at_once())
    finally:
        batcher.close()
    assert max(sizes) > 1  # they really shared calls
    for a, b in zip(alone, together, strict=True):
        assert len(a) == len(b) >= 1
        for fa, fb in zip(a, b, strict=True):
            assert np.allclose(fa.bbox, fb.bbox, atol=0.5)
            assert float(np.dot(fa.embedding, fb.embedding)) > 0.999
            assert fb.landmarks is not None and fb.landmarks.shape == (106, 2)


def test_a_failing_image_does_not_fail_its_batch(engine, photos):
    good = engine.load(photos / "obama.jpg")
    bad = np.zeros((10, 10, 3), np.uint8)  # below the minimum size: the engine refuses it
    batcher = MicroBatcher(engine, BatchPolicy(True, window_ms=50, max_batch=8))

    async def both():
        return await asyncio.gather(batcher.faces(good), batcher.faces(bad), return_exceptions=True)

    try:
        ok, err = asyncio.run(both())
    finally:
        batcher.close()
    assert len(ok) == 1 and isinstance(err, Exception)


# -- face tokens ---------------------------------------------------------------------------------------
def test_tokens_expire_unless_in_a_faceset_and_purge_really_deletes(engine, photos, tmp_path):
    from faceprint.gallery import GalleryConfig, GalleryService

    faces = analyse(engine, [engine.load(photos / "obama.jpg"), engine.load(photos / "biden.jpg")])
    with GalleryService(GalleryConfig(data_dir=tmp_path), engine=engine) as svc:
        store = TokenStore(svc, ttl_s=100)
        (a,), (b,) = store.mint("t", "arcface-s", faces[0]), store.mint("t", "arcface-s", faces[1])
        got = store.get("t", a)
        assert np.allclose(got.face.embedding, faces[0][0].embedding) and got.face.landmarks.shape == (106, 2)
        assert got.faceset_token is None and got.expires is not None
        with pytest.raises(InvalidFaceToken):
            store.get("other-tenant", a)
        fs = svc.create("fs1", tenant="t")
        assert svc.add_detected((fs.token, None), [a], 10, tenant="t").added == (a,)
        assert store.purge(now=10**12) == 1  # b expired; a lives in a faceset
        with pytest.raises(InvalidFaceToken):
            store.get("t", b)
        assert store.get("t", a).expires is None and store.get("t", a).faceset_token == fs.token
        assert svc.remove_faces(fs.token, [a], tenant="t") == 1  # its one copy
        with pytest.raises(InvalidFaceToken):
            store.get("t", a)
        assert store.count() == 0
    with sqlite3.connect(tmp_path / "faceprint.db") as db:
        assert db.execute("SELECT COUNT(*) FROM faces").fetchone()[0] == 0


# -- Face++ compatibility knobs ------------------------------------------------------------------------
def test_cors_origins_come_from_the_environment_unless_given(monkeypatch):
    from faceprint.service.config import ServiceConfig

    monkeypatch.setenv("FACEPRINT_CORS_ORIGINS", "https://a.example, https://b.example,")
    assert ServiceConfig.from_env().cors_origins == ("https://a.example", "https://b.example")
    assert ServiceConfig.from_env(cors_origins=("https://c.example",)).cors_origins == ("https://c.example",)
    monkeypatch.delenv("FACEPRINT_CORS_ORIGINS")
    assert ServiceConfig.from_env().cors_origins == ()


def test_attribute_policy_refuses_or_omits_and_never_offers_ethnicity():
    from faceprint.errors import BadInput
    from faceprint.service.attributes import Wanted, choose

    assert choose(["none"], lenient=False) == Wanted()
    assert choose(["smiling", "headpose", "smiling"], lenient=False) == Wanted(("smiling", "headpose"))
    with pytest.raises(BadInput):
        choose(["headpose", "age"], lenient=False)
    assert choose(["headpose", "age", "gender"], lenient=True) == Wanted(("headpose",), ("age", "gender"))
    for lenient in (False, True):
        with pytest.raises(BadInput):
            choose(["headpose", "ethnicity"], lenient=lenient)
        with pytest.raises(BadInput):
            choose(["nonsense"], lenient=lenient)
