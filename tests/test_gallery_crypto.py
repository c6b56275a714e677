import base64

import pytest

from faceprint.errors import EncryptionKeyError
from faceprint.gallery.crypto import Cipher, key_from_env, new_key, parse_key

KEY = bytes(range(32))


def test_key_forms_agree_and_bad_keys_are_refused(tmp_path):
    assert parse_key(KEY.hex()) == parse_key(base64.b64encode(KEY).decode()) == parse_key(KEY) == KEY
    assert len(parse_key(new_key())) == 32
    for bad in ("abc", KEY.hex()[:-2], base64.b64encode(b"short").decode()):
        with pytest.raises(EncryptionKeyError):
            parse_key(bad)
    f = tmp_path / "key"
    f.write_bytes(KEY)
    assert key_from_env({"FACEPRINT_KEY_FILE": str(f)}) == KEY
    assert key_from_env({"FACEPRINT_KEY": KEY.hex()}) == KEY
    assert key_from_env({}) is None
    with pytest.raises(EncryptionKeyError):
        key_from_env({"FACEPRINT_KEY_FILE": str(tmp_path / "missing")})


def test_seal_is_authenticated_and_bound_to_its_row():
    c = Cipher(KEY)
    blob = c.seal(b"template bytes", b"face-1")
    assert b"template bytes" not in blob and c.seal(b"template bytes", b"face-1") != blob  # fresh nonce
    assert c.open(blob, b"face-1") == b"template bytes"
    with pytest.raises(EncryptionKeyError):
        c.open(blob, b"face-2")  # swapped between rows
    tampered = blob[:-1] + bytes([blob[-1] ^ 1])
    with pytest.raises(EncryptionKeyError):
        c.open(tampered, b"face-1")
    with pytest.raises(EncryptionKeyError):
        Cipher(bytes(32)).open(blob, b"face-1")
    with pytest.raises(EncryptionKeyError):
        c.open(b"plain bytes", b"face-1")


def test_no_key_is_the_identity_and_check_values_catch_mismatch():
    plain = Cipher(None)
    assert plain.seal(b"x") == b"x" and plain.open(b"x") == b"x" and not plain.enabled
    c = Cipher(KEY)
    c.verify("aes-256-gcm", c.check_value())
    with pytest.raises(EncryptionKeyError):
        Cipher(bytes(32)).verify("aes-256-gcm", c.check_value())
    with pytest.raises(EncryptionKeyError):
        plain.verify("aes-256-gcm", c.check_value())
    with pytest.raises(EncryptionKeyError):
        c.verify("none", "")
