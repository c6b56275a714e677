"""The gallery commands end to end on real photos, in-process (thresholds.json is calibrated elsewhere)."""

import json

import pytest
from typer.testing import CliRunner

import faceprint.compare
from faceprint.cli.main import app
from gallery_support import SIMS


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setattr(faceprint.compare, "_table", lambda: {"arcface-s": {"similarity_at_far": SIMS}})
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, [str(a) for a in args], env={"FACEPRINT_DATA": str(tmp_path / "data")})

    return run


def test_create_enrol_search_remove_delete(cli, shared):
    train, test = shared / "gallery" / "train", shared / "gallery" / "test"
    r = cli("gallery", "create", "people", "--tag", "demo", "--json")
    assert r.exit_code == 0, r.output
    token = json.loads(r.stdout)["faceset_token"]
    r = cli("enroll", "people", train, "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["enrolled"] == 9
    r = cli("enroll", "people", test / "obama_and_biden.jpg", "--subject", "x", "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["rejected"][0]["code"] == "MULTIPLE_FACES"
    r = cli("enroll", token, test / "obama_and_biden.jpg", "--subject", "obama", "--face", "0")
    assert r.exit_code == 0 and "enrolled 1" in r.output

    r = cli("search", "people", test / "johnsnow_test1.jpg", "--top", "3", "--json")
    body = json.loads(r.stdout)
    assert r.exit_code == 0 and body["decision"] == "kit_harington" and len(body["results"]) == 3
    assert body["thresholds"]["1e-4"] == 69.101 and body["results"][0]["confidence"] > 69.101
    r = cli("search", "people", test / "alex_lacamoire1.jpg")
    assert r.exit_code == 0 and "alex_lacamoire" in r.output

    r = cli("gallery", "show", "people", "--subject", "obama", "--json")
    obama = [f["face_token"] for f in json.loads(r.stdout)["faces"]]
    assert len(obama) == 3
    r = cli("remove", "people", "--face", obama[0], "--json")
    assert json.loads(r.stdout) == {"removed": 1}
    r = cli("remove", "people", "--subject", "obama")
    assert r.exit_code == 0 and "removed 2" in r.output
    r = cli("search", "people", test / "obama1.jpg", "--json")
    assert r.exit_code == 1 and json.loads(r.stdout)["decision"] == "unknown"

    r = cli("gallery", "list", "--json")
    assert [fs["outer_id"] for fs in json.loads(r.stdout)["facesets"]] == ["people"]
    r = cli("gallery", "delete", "people", "--yes", "--json")
    assert json.loads(r.stdout)["faces_erased"] == 7
    assert json.loads(cli("gallery", "list", "--json").stdout)["facesets"] == []


def test_errors_are_codes(cli, shared):
    r = cli("enroll", "missing", shared / "gallery" / "train", "--json")
    assert r.exit_code == 2 and json.loads(r.stdout)["error_code"] == "INVALID_FACESET_TOKEN"
    cli("gallery", "create", "g")
    r = cli("gallery", "create", "g")
    assert r.exit_code == 2 and "FACESET_EXIST" in r.output
    r = cli("remove", "g")
    assert r.exit_code == 2 and "BAD_ARGUMENTS" in r.output
    r = cli("gallery", "create", "bad id")
    assert r.exit_code == 2 and "INVALID_OUTER_ID" in r.output


def test_gallery_commands_say_which_data_and_tenant_they_used_and_keys_say_what_they_see(cli, tmp_path):
    r = cli("gallery", "create", "staff", "--tenant", "acme", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["outer_id"] == "staff"  # stdout is JSON only
    assert "tenant 'acme'" in r.stderr and str((tmp_path / "data").resolve()) in r.stderr
    assert json.loads(cli("gallery", "list", "--json").stdout)["facesets"] == []  # tenant default sees nothing
    r = cli("gallery", "list", "--tenant", "acme", "--json")
    assert [fs["outer_id"] for fs in json.loads(r.stdout)["facesets"]] == ["staff"] and "tenant 'acme'" in r.stderr
    r = cli("keys", "create", "--name", "app", "--scopes", "faceset:read", "--tenant", "acme", "--data", tmp_path / "data", "--json")
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout)["tenant"] == "acme" and "the key sees tenant 'acme'" in r.stderr


def test_enrol_is_a_deprecated_alias_of_enroll(cli, shared):
    assert cli("gallery", "create", "people", "--json").exit_code == 0
    r = cli("enrol", "people", shared / "gallery" / "train", "--json")
    assert r.exit_code == 0 and json.loads(r.stdout)["enrolled"] == 9
    assert "deprecated" in r.stderr.lower()
    assert "enrol " not in cli("--help").stdout  # only "enroll" is listed
