"""The web console end to end: headless Debian chromium against a real ``faceprint serve``, real photos.

The tests run in file order and share one server: enrolment feeds search, and search feeds the
subject deletion. Each page is screenshotted (out/screenshots/) and checked with axe-core.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from PIL import Image

from faceprint.video.timeline import CSV_COLUMNS
from service.support import Key, make_key

from .conftest import DATA, axe_check, shoot, sign_in

TRAIN = DATA / "gallery" / "train"
TEST = DATA / "gallery" / "test"
GALLERY = "people"


def compare(page, a, b) -> str:
    page.get_by_test_id("compare-file-1").set_input_files(str(a))
    page.get_by_test_id("compare-file-2").set_input_files(str(b))
    verdict = page.get_by_test_id("verdict")
    verdict.wait_for()
    return verdict.get_attribute("data-verdict") or ""


def test_compare_same_and_different_person(page, admin_key: Key) -> None:
    sign_in(page, admin_key)
    assert compare(page, TRAIN / "obama" / "obama.jpg", TRAIN / "biden" / "biden.jpg") == "different"
    page.reload()
    same = compare(page, TRAIN / "obama" / "obama.jpg", TEST / "obama1.jpg")
    assert same == "same", page.get_by_test_id("compare-result").inner_text()
    result = page.get_by_test_id("compare-result")
    assert float(page.get_by_test_id("confidence").inner_text()) > 50
    for level in ("1e-3", "1e-4", "1e-5"):  # the gauge marks all three thresholds
        assert level in (result.locator("svg.gauge").text_content() or "")
    assert page.locator("figure.faces").count() == 2
    assert page.locator("figure.faces svg circle").count() >= 2 * 5  # landmarks drawn on both photos
    shoot(page, "compare", docs=True)
    axe_check(page)


def test_secret_stays_in_the_session_and_out_of_urls(page, admin_key: Key) -> None:
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url))
    sign_in(page, admin_key)
    page.goto("/#/galleries")
    page.get_by_role("heading", name="New gallery").wait_for()
    stored = page.evaluate("() => ({local: JSON.stringify(localStorage), session: JSON.stringify(sessionStorage)})")
    assert admin_key.api_secret not in stored["local"]
    assert admin_key.api_secret in stored["session"]
    assert urls and not [u for u in urls if admin_key.api_secret in u]


def test_enrol_the_train_folder_then_search_the_test_photos(page, admin_key: Key) -> None:
    sign_in(page, admin_key, "#/galleries")
    page.get_by_label("Display name").fill("People")
    page.get_by_label("ID (letters, digits, - and _)").fill(GALLERY)
    page.get_by_role("button", name="Create gallery").click()
    page.get_by_role("button", name="Open People").click()
    page.get_by_test_id("enrol-folder").set_input_files(str(TRAIN))
    done = page.get_by_test_id("enrol-done")
    done.wait_for(timeout=90_000)
    n_files = sum(1 for p in TRAIN.rglob("*") if p.is_file())
    assert done.inner_text() == f"Enrolled {n_files} of {n_files} files.", page.get_by_test_id("enrol-rejected").inner_text()
    for person in (p.name for p in TRAIN.iterdir()):
        assert page.get_by_test_id("enrol-progress").locator(f'[data-subject="{person}"] progress').get_attribute("value") == str(
            len(list((TRAIN / person).iterdir()))
        )
    subjects = page.get_by_test_id("subjects")
    subjects.wait_for()
    assert sorted(subjects.locator("tbody tr").evaluate_all("rows => rows.map(r => r.dataset.subject)")) == sorted(p.name for p in TRAIN.iterdir())
    shoot(page, "galleries")
    axe_check(page)

    page.goto("/#/search")
    expected = {"obama1.jpg": "obama", "alex_lacamoire1.jpg": "alex_lacamoire", "johnsnow_test1.jpg": "kit_harington"}
    for photo, subject in expected.items():
        page.get_by_test_id("search-file").set_input_files(str(TEST / photo))
        decision = page.get_by_test_id("decision")
        page.wait_for_function(
            "name => { const d = document.querySelector('[data-testid=decision]'); return d && d.closest('.result') && "
            "document.querySelector('figcaption') && document.querySelector('figcaption').textContent.includes(name) }",
            arg=photo,
        )
        assert decision.get_attribute("data-match") == subject, decision.inner_text()
        top = page.locator("table.hits tbody tr").first
        assert top.get_attribute("data-subject") == subject
    shoot(page, "search", docs=True)
    axe_check(page)


def test_search_names_every_face_and_any_face_can_be_clicked(page, admin_key: Key) -> None:
    """Both faces of kit_with_rose.jpg and of obama_and_biden.jpg are named; clicking a face shows
    its own candidates (subjects, not faces; top-K past 20; no "not stored" column)."""
    sign_in(page, admin_key, "#/search")
    top_k = page.get_by_label("How many subjects per face (top K)")
    assert top_k.get_attribute("max") == "100"  # the service's limit, not 20
    top_k.fill("30")
    expected = {"kit_with_rose.jpg": {"kit_harington", "rose_leslie"}, "obama_and_biden.jpg": {"obama", "biden"}}
    for photo, names in expected.items():
        page.get_by_test_id("search-file").set_input_files(str(TEST / photo))
        page.wait_for_function(
            "name => { const c = document.querySelector('figcaption'); return c && c.textContent.includes(name) && "
            "document.querySelector('[data-testid=search-faces] tbody tr') }",
            arg=photo,
        )
        rows = page.get_by_test_id("search-faces").locator("tbody tr")
        subjects = rows.evaluate_all("rows => rows.map(r => r.dataset.subject)")
        assert {s for s in subjects if s != "unknown"} == names and len(subjects) >= 2, subjects
        for i, subject in enumerate(subjects):
            page.locator(f'figure.faces rect.box[data-face="{i}"]').dispatch_event("click")
            decision = page.get_by_test_id("decision")
            page.wait_for_function(f"() => document.querySelector('[data-testid=decision]').dataset.face === '{i}'")
            assert decision.get_attribute("data-match") == ("" if subject == "unknown" else subject), decision.inner_text()
            hits = page.locator("[data-testid=search-result] table.hits tbody tr").evaluate_all("rows => rows.map(r => r.dataset.subject)")
            assert len(hits) == len(set(hits)) == 5  # every enrolled subject once: the page lists subjects, not faces
        assert "not stored" not in page.get_by_test_id("search-result").inner_text()
        assert "of up to 30 subjects" in page.get_by_test_id("search-result").inner_text()  # asked for 30, not cut to 20
    page.get_by_role("button", name="Show face #1").click()  # the keyboard path: a button per face
    assert page.get_by_test_id("decision").get_attribute("data-face") == "1"
    shoot(page, "search-every-face", docs=True)
    axe_check(page)


def test_enrolment_reports_rejected_images_with_reasons(page, admin_key: Key, tmp_path) -> None:
    sign_in(page, admin_key, "#/galleries")
    page.get_by_role("button", name="Open People").click()
    page.get_by_label("Subject for single photos").fill("someone")
    blank = tmp_path / "blank.png"  # a real image with no face in it
    Image.new("RGB", (320, 240), (90, 140, 200)).save(blank)
    notes = tmp_path / "notes.txt"
    notes.write_text("not a photo")
    page.get_by_test_id("enrol-files").set_input_files([str(TEST / "obama_and_biden.jpg"), str(blank), str(notes)])
    page.get_by_test_id("enrol-done").wait_for(timeout=60_000)
    assert page.get_by_test_id("enrol-done").inner_text() == "Enrolled 0 of 3 files."
    rows = page.get_by_test_id("enrol-rejected").locator("tbody tr")
    got = {rows.nth(i).locator("td").first.inner_text(): rows.nth(i).locator("td").nth(2).inner_text() for i in range(rows.count())}
    assert got == {"obama_and_biden.jpg": "MULTIPLE_FACES", "blank.png": "NO_FACE_FOUND", "notes.txt": "IMAGE_ERROR_UNSUPPORTED_FORMAT"}
    assert "more than one face" in page.get_by_test_id("enrol-rejected").inner_text()
    page.get_by_test_id("subjects").wait_for()
    assert page.get_by_test_id("subjects").locator('tr[data-subject="someone"]').count() == 0


def test_deleted_subject_is_no_longer_found(page, admin_key: Key) -> None:
    sign_in(page, admin_key, "#/galleries")
    page.get_by_role("button", name="Open People").click()
    page.get_by_role("button", name="Delete subject obama").click()
    dialog = page.get_by_role("dialog")
    assert "permanently" in dialog.inner_text() and "cannot be undone" in dialog.inner_text()
    axe_check(page)
    dialog.get_by_role("button", name="Delete permanently").click()
    page.get_by_test_id("subject-deleted").wait_for()
    page.get_by_test_id("subjects").wait_for()
    assert page.get_by_test_id("subjects").locator('tr[data-subject="obama"]').count() == 0

    page.goto("/#/search")
    page.get_by_test_id("search-file").set_input_files(str(TEST / "obama1.jpg"))
    decision = page.get_by_test_id("decision")
    decision.wait_for()
    assert decision.get_attribute("data-match") != "obama"
    assert page.locator('table.hits tbody tr[data-subject="obama"]').count() == 0
    assert decision.inner_text().startswith("No match"), decision.inner_text()


def test_key_without_admin_scope_cannot_open_keys(page, console_server, admin_key: Key) -> None:
    plain = make_key(console_server.data, "detect,compare,faceset:read")
    sign_in(page, plain, "#/keys")
    gate = page.get_by_test_id("keys-gate")
    gate.get_by_role("alert").wait_for()
    assert "AUTHORIZATION_ERROR" in gate.inner_text() and "admin scope" in gate.inner_text()
    assert page.get_by_role("button", name="Create key").count() == 0
    assert page.get_by_test_id("keys-table").count() == 0
    shoot(page, "keys-denied")
    axe_check(page)


def test_admin_creates_revokes_keys_and_verifies_the_audit_chain(page, admin_key: Key) -> None:
    sign_in(page, admin_key, "#/keys")
    page.get_by_label("Name", exact=True).fill("ci-reader")
    page.get_by_role("button", name="Create key").click()
    secret = page.get_by_test_id("new-secret")
    secret.wait_for()
    text = secret.inner_text()
    new_key = re.search(r"API key: (\S+)", text).group(1)  # type: ignore[union-attr]
    assert re.search(r"API secret: (\S{20,})", text)
    page.locator(f'tr[data-key="{new_key}"]').wait_for()
    page.get_by_role("button", name="Verify the hash chain").click()
    verdict = page.get_by_test_id("audit-verdict").locator("p")
    verdict.wait_for()
    assert verdict.get_attribute("data-ok") == "true", verdict.inner_text()
    page.get_by_label("Endpoint contains").fill("identify")  # the Search page calls /v1/identify, audited as "identify"
    page.get_by_role("button", name="Filter").click()
    page.get_by_test_id("audit-rows").get_by_text("identify", exact=True).first.wait_for()
    shoot(page, "keys")
    axe_check(page)
    page.get_by_role("button", name="I have copied it; hide the secret").click()
    assert page.get_by_test_id("new-secret").count() == 0  # shown once: gone when dismissed, and never listed
    page.get_by_role("button", name=re.compile("Revoke ci-reader")).click()
    page.get_by_role("dialog").get_by_role("button", name="Revoke key").click()
    page.locator(f'tr[data-key="{new_key}"]', has_text="revoked").wait_for()


def test_video_job_timeline_seek_downloads_and_delete(page, admin_key: Key, console_server) -> None:
    sign_in(page, admin_key, "#/video")
    page.get_by_label("Identify against gallery").locator("option", has_text="People").wait_for(state="attached")
    page.get_by_label("Identify against gallery").select_option(label="People")
    page.get_by_label("Detect on every Nth frame").fill("5")
    page.get_by_test_id("video-file").set_input_files(str(DATA / "video" / "short_hamilton_clip.mp4"))
    page.get_by_test_id("video-status").locator("progress").wait_for()
    segments = page.get_by_test_id("timeline").locator("button.tl-seg")
    segments.first.wait_for(timeout=120_000)
    labels = page.get_by_test_id("timeline").locator(".tl-row").evaluate_all("rows => rows.map(r => r.getAttribute('aria-label'))")
    assert labels and "done" in page.get_by_test_id("video-status").inner_text()
    last = segments.nth(segments.count() - 1)
    start = float(re.search(r"from ([0-9.]+) s", last.get_attribute("aria-label") or "").group(1))  # type: ignore[union-attr]
    last.click()
    assert abs(page.evaluate("() => document.querySelector('video.player').currentTime") - start) < 0.25
    with page.expect_download() as got:
        page.get_by_role("button", name="Download JSON").click()
    timeline = json.loads(Path(got.value.path()).read_text())
    assert [s["label"] for s in timeline["subjects"]] == labels
    with page.expect_download() as got:
        page.get_by_role("button", name="Download CSV").click()
    with Path(got.value.path()).open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert tuple(rows[0]) == CSV_COLUMNS and len(rows) == segments.count()  # the CLI's --csv columns
    assert {(r["label"], r["known"]) for r in rows} == {(s["label"], str(int(s["known"]))) for s in timeline["subjects"]}
    assert all(re.fullmatch(r"\d+\.\d{3}", r["start_s"]) and re.fullmatch(r"[\d ]+", r["track_ids"]) for r in rows)
    # known and unknown people in two colours, a time axis, and no stray "null"
    kinds = page.get_by_test_id("timeline").locator(".tl-row").evaluate_all(
        "rows => rows.map(r => [...r.querySelectorAll('.tl-seg')].map(b => b.classList.contains('known') ? 'known' : 'unknown'))")
    assert kinds == [["known" if s["known"] else "unknown"] * len(s["segments"]) for s in timeline["subjects"]]
    colours = page.get_by_test_id("timeline").locator(".tl-track").first.evaluate(
        """t => ['known', 'unknown'].map(k => { const b = document.createElement('button'); b.className = 'tl-seg ' + k;
             t.append(b); const c = getComputedStyle(b).backgroundColor; b.remove(); return c; })""")
    assert colours[0] != colours[1], colours  # known and unknown people in two colours
    ticks = page.get_by_test_id("tl-axis").locator(".tl-tick").all_inner_texts()
    assert len(ticks) >= 3 and ticks[0] == "0 s" and all(t.endswith(" s") for t in ticks)
    assert "null" not in page.get_by_test_id("timeline").inner_text()
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if "/annotated" in r.url else None)
    with page.expect_download(timeout=60_000) as got:
        page.get_by_role("button", name="Download annotated video").click()
    assert got.value.suggested_filename == "short_hamilton_clip.annotated.mp4"
    assert Path(got.value.path()).stat().st_size > 0
    assert posts and not any("secret" in u for u in posts)  # the key travels in the POST body, not the URL
    shoot(page, "video")
    axe_check(page)
    job_id = (page.get_by_test_id("video-status").locator("label").inner_text()).split()[-1]
    page.get_by_role("button", name="Delete job").click()
    page.get_by_role("dialog").get_by_role("button", name="Delete permanently").click()
    page.get_by_text(f"Deleted job {job_id}.").wait_for()
    assert page.get_by_test_id("timeline").locator("button.tl-seg").count() == 0
    with console_server.client() as c:  # gone on the server too, not just from the page
        r = c.post(f"/v1/video/jobs/{job_id}", data=admin_key.auth)
    assert r.json()["error_message"] == "INVALID_JOB_ID: job_id"


def test_liveness_page(page, admin_key: Key) -> None:
    sign_in(page, admin_key, "#/liveness")
    page.get_by_role("button", name="Start the challenge").click()  # no reference yet: the service's code, explained
    alert = page.get_by_test_id("liveness-result").get_by_role("alert")
    alert.wait_for()
    assert "MISSING_ARGUMENTS" in alert.inner_text()
    # Chromium's fake camera (a moving test pattern, no face): each instruction is shown, then a verdict with reasons.
    page.get_by_test_id("liveness-reference").set_input_files(str(TRAIN / "obama" / "obama.jpg"))
    steps: list[str] = []
    page.expose_function("noteStep", lambda text: steps.append(text))
    page.evaluate("""() => new MutationObserver(() => window.noteStep(document.querySelector('[data-testid=instruction]').textContent))
        .observe(document.querySelector('[data-testid=instruction]'), {childList: true, characterData: true, subtree: true})""")
    page.get_by_role("button", name="Start the challenge").click()
    verdict = page.get_by_test_id("liveness-result").locator("[data-verdict]")
    verdict.wait_for(timeout=60_000)
    shown = [t for t in steps if t.startswith("Step ")]
    assert shown and shown[0].startswith("Step 1 of ") and len(set(shown)) == int(shown[0].split(" of ")[1].split(":")[0])
    assert verdict.get_attribute("data-verdict") == "REJECT"
    reasons = page.get_by_test_id("liveness-result").locator("li").all_inner_texts()
    assert any(r.startswith("NO_FACE ") for r in reasons), reasons  # the fake camera shows no face
    # frames carry their capture times, which strictly increase (a loaded CI machine may still stall: FRAME_GAP)
    assert not [r for r in reasons if r.split()[0] == "TIMESTAMPS_INVALID"], reasons
    assert page.get_by_test_id("liveness-result").locator("li").count() >= 1  # the reasons
    shoot(page, "liveness")
    axe_check(page)


def test_phone_width(page, admin_key: Key) -> None:
    page.set_viewport_size({"width": 375, "height": 740})
    sign_in(page, admin_key)
    for where in ("#/compare", "#/search", "#/galleries", "#/keys"):
        page.goto("/" + where)
        page.locator("h1").wait_for()
        page.wait_for_timeout(300)
        overflow = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{where} is {overflow}px wider than a phone"
    page.goto("/#/compare")
    shoot(page, "compare-phone")


def test_wrong_secret_shows_the_service_code_and_a_plain_explanation(page, admin_key: Key) -> None:
    page.goto("/")
    page.get_by_label("API key", exact=True).fill(admin_key.api_key)
    page.get_by_label("API secret", exact=True).fill("not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    alert = page.get_by_role("alert")
    alert.wait_for()
    assert alert.inner_text().startswith("AUTHENTICATION_ERROR ")
    assert "key or secret is wrong" in alert.inner_text()
    assert page.evaluate("() => sessionStorage.length") == 0  # a refused secret is not kept
    axe_check(page)


def test_keyboard_only(page, admin_key: Key) -> None:
    page.goto("/")
    page.keyboard.press("Tab")  # the skip link comes first
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.get_by_label("API key", exact=True).focus()
    page.keyboard.type(admin_key.api_key)
    page.keyboard.press("Tab")
    page.keyboard.type(admin_key.api_secret)
    page.keyboard.press("Enter")
    page.get_by_role("button", name="Sign out").wait_for()
    for _ in range(20):  # Tab through the header to the Galleries link and follow it with Enter
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent") == "Galleries":
            break
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Galleries", exact=True).wait_for()
    assert page.get_by_role("link", name="Galleries").get_attribute("aria-current") == "page"
    page.get_by_role("button", name="Delete People").focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert page.evaluate("() => document.activeElement.textContent") == "Cancel"  # the safe choice has focus
    page.keyboard.press("Escape")
    assert page.get_by_role("dialog").count() == 0
    assert page.get_by_role("button", name="Delete People").count() == 1  # nothing deleted
