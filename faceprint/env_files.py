"""``FACEPRINT_<NAME>_FILE``: a setting read from a file, the way container secrets are mounted.

``FACEPRINT_STORE_FILE=/run/secrets/store`` sets ``FACEPRINT_STORE`` to that file's text (one
trailing newline dropped), so a database password never sits in the environment or a compose file.
libpq's ``PGPASSWORD`` gets the same treatment (``PGPASSWORD_FILE``), so PostgreSQL and faceprint
can share one password file. Setting both a variable and its ``_FILE`` twin is refused rather than
guessed. ``FACEPRINT_KEY_FILE`` and ``FACEPRINT_AUDIT_KEY_FILE`` are left alone: the cipher and the audit log read them (raw bytes; the audit key file is made at first start).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from .errors import SettingsError

PREFIX, SUFFIX = "FACEPRINT_", "_FILE"
READ_BY_THEIR_OWNER = frozenset({"FACEPRINT_KEY_FILE", "FACEPRINT_AUDIT_KEY_FILE"})  # read (or made) by the cipher, the audit log
ALSO = frozenset({"PGPASSWORD_FILE"})


def load_env_files(environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Fill each ``FACEPRINT_<NAME>`` (and ``PGPASSWORD``) from its ``_FILE`` twin; returns the names filled."""
    env = os.environ if environ is None else environ
    filled = []
    for name, path in sorted(env.items()):
        ours = name.startswith(PREFIX) and name.endswith(SUFFIX) and name not in READ_BY_THEIR_OWNER
        if not (ours or name in ALSO) or not path:
            continue
        target = name[: -len(SUFFIX)]
        if env.get(target):
            raise SettingsError(f"both {target} and {name} are set; set one", param=name)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"cannot read {name}={path!r}: {getattr(exc, 'strerror', None) or exc}", param=name) from None
        env[target] = text.removesuffix("\n")
        filled.append(target)
    return filled
