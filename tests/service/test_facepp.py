"""service/facepp.py: the form fields a router reads (uploads, operating points, timestamps), each refused with its code."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from faceprint.compare import FAR_LEVELS
from faceprint.errors import BadInput, FaceprintError, MissingArguments
from faceprint.service.facepp import Params

JPEG = b"\xff\xd8\xff\xe0 not decoded here"


def _refused(call: Callable[..., object], *args: object, **kwargs: object) -> FaceprintError:
    with pytest.raises(FaceprintError) as err:
        call(*args, **kwargs)
    return err.value


def test_upload_is_bytes_none_when_blank_and_text_is_refused() -> None:
    p = Params({"video_file": JPEG, "empty": b"", "blank": "", "typed": "some text"})
    assert p.upload("video_file") == JPEG
    assert p.upload("empty") == b""  # an empty file is a file: the caller decides what it means
    assert p.upload("blank") is None and p.upload("absent") is None
    err = _refused(p.upload, "typed")
    assert isinstance(err, BadInput) and err.code == "BAD_ARGUMENTS" and err.details == {"param": "typed"}
    assert "typed must be a file upload" in err.message
    missing = _refused(p.upload, "absent", required=True)
    assert isinstance(missing, MissingArguments) and missing.message == "absent is required"


def test_image_file_given_as_text_is_refused_under_its_own_name() -> None:
    err = _refused(Params({"image_file2": "text"}).image, "2")
    assert err.code == "BAD_ARGUMENTS" and err.details == {"param": "image_file2"}
    assert err.message.startswith("image_file must be a file upload")
    ref = Params({"image_file": b"", "image_url": "http://x/a.jpg"}).image()
    assert ref is not None and ref.param == "image_url"  # an empty upload is no image: the next field is used


def test_far_is_one_of_the_calibrated_levels() -> None:
    assert Params({}).far("1e-4") == "1e-4"
    for level in FAR_LEVELS:
        assert Params({"far": level}).far("1e-5") == level
    err = _refused(Params({"far": "0.5"}).far, "1e-5")
    assert err.code == "BAD_ARGUMENTS" and err.details == {"param": "far"} and all(lv in err.message for lv in FAR_LEVELS)


def test_seconds_are_comma_separated_floats() -> None:
    assert Params({"timestamps": "0, 0.5,1e0"}).seconds("timestamps") == [0.0, 0.5, 1.0]
    assert Params({"timestamps": ""}).seconds("timestamps") is None
    err = _refused(Params({"timestamps": "0,half"}).seconds, "timestamps")
    assert err.code == "BAD_ARGUMENTS" and err.message == "timestamps are seconds, comma-separated"
