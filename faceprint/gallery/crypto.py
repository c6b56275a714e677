"""Encryption at rest for embeddings, thumbnails and index files: AES-256-GCM via ``cryptography``.

The key comes from ``$FACEPRINT_KEY`` (64 hex characters or base64 of 32 bytes) or from the file
named by ``$FACEPRINT_KEY_FILE`` (32 raw bytes, or the same text forms). Each blob gets a fresh
96-bit nonce and is bound to its row by associated data (the face token), so blobs cannot be
swapped between rows unnoticed.

What stays in plain text, and why:

- tokens, subjects (``user_id``), boxes, quality, source-image sha256, gallery metadata: the store
  must filter, page and join on them; they are identifiers, not biometric templates;
- the in-memory index and the vectors a search reads: FAISS can only compare plaintext floats,
  so while a process serves a gallery its templates sit decrypted in that process's memory;
- SQLite's own structure (page layout, row counts, sizes).

Index snapshot files on disk are encrypted whole with the same key.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import EncryptionKeyError

MAGIC = b"FPE1"
NONCE = 12
KEY_ENV = "FACEPRINT_KEY"
KEY_FILE_ENV = "FACEPRINT_KEY_FILE"
CHECK_PLAINTEXT = b"faceprint key check"


def parse_key(raw: bytes | str) -> bytes:
    """32 raw bytes, 64 hex characters or base64 of 32 bytes."""
    if isinstance(raw, bytes) and len(raw) == 32:
        return raw
    text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
    text = text.strip()
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            key = decode(text)
        except (ValueError, binascii.Error):
            continue
        if len(key) == 32:
            return key
    raise EncryptionKeyError("an encryption key must be 32 bytes: 64 hex characters or base64 of 32 bytes")


def key_from_env(environ: dict[str, str] | None = None) -> bytes | None:
    env = os.environ if environ is None else environ
    if env.get(KEY_ENV):
        return parse_key(env[KEY_ENV])
    if env.get(KEY_FILE_ENV):
        path = Path(env[KEY_FILE_ENV])
        try:
            return parse_key(path.read_bytes())
        except OSError as exc:
            raise EncryptionKeyError(f"cannot read key file {str(path)!r}: {exc.strerror}") from None
    return None


def new_key() -> str:
    """A fresh key as 64 hex characters, for ``$FACEPRINT_KEY``."""
    return secrets.token_hex(32)


class Cipher:
    """Seals and opens blobs. ``Cipher(None)`` is the identity, for an unencrypted store."""

    def __init__(self, key: bytes | None) -> None:
        self._aead = AESGCM(key) if key is not None else None

    @property
    def enabled(self) -> bool:
        return self._aead is not None

    @property
    def name(self) -> str:
        return "aes-256-gcm" if self.enabled else "none"

    def seal(self, data: bytes, aad: bytes = b"") -> bytes:
        if self._aead is None:
            return data
        nonce = os.urandom(NONCE)
        return MAGIC + nonce + self._aead.encrypt(nonce, data, aad)

    def open(self, blob: bytes, aad: bytes = b"") -> bytes:
        if self._aead is None:
            return blob
        if blob[:4] != MAGIC:
            raise EncryptionKeyError("a stored blob is not encrypted although a key is in use")
        try:
            return self._aead.decrypt(blob[4 : 4 + NONCE], blob[4 + NONCE :], aad)
        except InvalidTag:
            raise EncryptionKeyError("cannot decrypt: wrong key, or the data was altered") from None

    def check_value(self) -> str:
        """Stored once per data directory so a wrong key fails at open, not mid-search."""
        return self.seal(CHECK_PLAINTEXT, b"check").hex() if self.enabled else ""

    def verify(self, stored_name: str, stored_check: str) -> None:
        if stored_name != self.name:
            want = "a key ($FACEPRINT_KEY or $FACEPRINT_KEY_FILE)" if stored_name != "none" else "no key"
            raise EncryptionKeyError(f"this data directory is stored with {stored_name!r} encryption: it needs {want}")
        if self.enabled and self.open(bytes.fromhex(stored_check), b"check") != CHECK_PLAINTEXT:
            raise EncryptionKeyError("wrong encryption key for this data directory")
