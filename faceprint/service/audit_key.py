"""The audit chain's secret: an HMAC-SHA256 key kept outside the data directory.

Looked for, in order:

1. ``$FACEPRINT_AUDIT_KEY``: 64 hex characters or base64 of 32 bytes;
2. ``$FACEPRINT_AUDIT_KEY_FILE``: a file holding the key (32 raw bytes or the same text forms);
3. ``$XDG_CONFIG_HOME/faceprint/audit.key`` (``~/.config/faceprint/audit.key``).

A server (``create=True``) that finds no key at the file named by 2 or 3 generates one there (mode
0600, created atomically, so servers starting together agree on one key). ``faceprint audit
verify`` never generates one: without the key it cannot tell a genuine line from a rewritten one.
A key file inside the data directory is refused: whoever can rewrite the log could read the key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ..errors import AuditKeyError, FaceprintError
from ..gallery.crypto import parse_key

KEY_ENV = "FACEPRINT_AUDIT_KEY"
KEY_FILE_ENV = "FACEPRINT_AUDIT_KEY_FILE"


def default_key_file() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "faceprint" / "audit.key"


def key_file() -> Path:
    return Path(os.environ[KEY_FILE_ENV]) if os.environ.get(KEY_FILE_ENV) else default_key_file()


def _generate(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secrets.token_hex(32).encode() + b"\n")
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if another process made one first: theirs wins
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def audit_key(data_dir: Path | None, *, create: bool = False) -> bytes:
    """The key, from the environment or its file (made if ``create`` and missing); else AUDIT_KEY_ERROR."""
    if os.environ.get(KEY_ENV):
        try:
            return parse_key(os.environ[KEY_ENV])
        except FaceprintError as exc:
            raise AuditKeyError(f"{KEY_ENV}: {exc.message}") from None
    path = key_file()
    if data_dir is not None and path.resolve().is_relative_to(Path(data_dir).resolve()):
        raise AuditKeyError(f"the audit key file {path} is inside the data directory; keep it elsewhere ({KEY_FILE_ENV})")
    if not path.exists():
        if not create:
            raise AuditKeyError(f"no audit key: set {KEY_ENV} or {KEY_FILE_ENV} (looked for {path})")
        _generate(path)
    try:
        return parse_key(path.read_bytes())
    except OSError as exc:
        raise AuditKeyError(f"cannot read the audit key file {path}: {exc.strerror}") from None
    except FaceprintError as exc:
        raise AuditKeyError(f"{path}: {exc.message}") from None
