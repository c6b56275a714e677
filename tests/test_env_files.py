"""``FACEPRINT_<NAME>_FILE``: settings from mounted secret files, through the real CLI and directly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from faceprint.env_files import load_env_files
from faceprint.errors import SettingsError

ROOT = Path(__file__).resolve().parents[1]


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("FACEPRINT_")}
    return subprocess.run([sys.executable, "-m", "faceprint.cli.main", *args], check=False, capture_output=True, text=True,
                          env={**clean, **env}, cwd=ROOT, timeout=120)  # fmt: skip


def test_cli_takes_the_store_url_from_a_file(tmp_path: Path) -> None:
    db = tmp_path / "from-file.db"
    secret = tmp_path / "store"
    secret.write_text(f"sqlite:///{db}\n")  # as `echo url > file` writes it
    env = {"FACEPRINT_STORE_FILE": str(secret), "FACEPRINT_DATA": str(tmp_path / "data")}
    made = run_cli(env, "gallery", "create", "staff")
    assert made.returncode == 0, made.stderr
    assert db.is_file()  # the gallery went into the database the file named
    listed = run_cli({"FACEPRINT_STORE": f"sqlite:///{db}", "FACEPRINT_DATA": str(tmp_path / "other")}, "gallery", "list", "--json")
    assert "staff" in listed.stdout, listed.stderr


def test_a_variable_and_its_file_twin_together_are_refused(tmp_path: Path) -> None:
    secret = tmp_path / "store"
    secret.write_text("sqlite:///elsewhere.db")
    out = run_cli({"FACEPRINT_STORE": "sqlite:///here.db", "FACEPRINT_STORE_FILE": str(secret)}, "models")
    assert out.returncode == 2
    assert "SETTINGS_ERROR" in out.stderr and "Traceback" not in out.stderr


def test_an_unreadable_file_is_a_settings_error(tmp_path: Path) -> None:
    env = {"FACEPRINT_MILVUS_TOKEN_FILE": str(tmp_path / "missing")}
    with pytest.raises(SettingsError) as err:
        load_env_files(env)
    assert err.value.code == "SETTINGS_ERROR" and "FACEPRINT_MILVUS_TOKEN_FILE" in err.value.message


def test_one_trailing_newline_is_dropped_libpq_password_too_and_the_key_file_is_left_to_the_cipher(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("user:pa ss\n\n")
    raw_key = tmp_path / "key"
    raw_key.write_bytes(os.urandom(32))
    env = {"FACEPRINT_MILVUS_TOKEN_FILE": str(token), "FACEPRINT_KEY_FILE": str(raw_key), "OTHER_FILE": str(token), "PGPASSWORD_FILE": str(token)}
    assert load_env_files(env) == ["FACEPRINT_MILVUS_TOKEN", "PGPASSWORD"]
    assert env["FACEPRINT_MILVUS_TOKEN"] == "user:pa ss\n"
    assert "FACEPRINT_KEY" not in env and "OTHER" not in env
