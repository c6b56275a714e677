"""faceprint/errors.py: the one error tree holds every error class of the codebase, each code once."""

from __future__ import annotations

import importlib
import pkgutil
import re

import pytest

import faceprint
from faceprint import errors
from faceprint.errors import BadInput, ConcurrencyLimitExceeded, DecodeBusy, FaceprintError, RequestTimeout, tree

CODE = re.compile(r"[A-Z][A-Z_]*[A-Z]")


def _import_everything() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(faceprint.__path__, "faceprint.")]
    for name in names:
        importlib.import_module(name)
    return names


def _ours(classes: list[type[FaceprintError]]) -> list[type[FaceprintError]]:
    """The classes faceprint defines (a test may subclass an error; that one is not the codebase's)."""
    return [c for c in classes if c.__module__.split(".")[0] == "faceprint"]


def test_every_error_class_of_the_codebase_is_defined_in_the_tree() -> None:
    modules = _import_everything()
    assert len(modules) > 100  # the walk really imported the package, not an empty path
    classes = _ours(tree())
    assert len(classes) > 60
    elsewhere = {f"{c.__module__}.{c.__qualname__}" for c in classes if c.__module__ != "faceprint.errors"}
    assert not elsewhere, f"error classes defined outside faceprint/errors.py: {sorted(elsewhere)}"
    for cls in classes:  # and each is reachable under its own name
        assert getattr(errors, cls.__name__) is cls


def test_the_tree_walk_finds_every_class_the_module_defines() -> None:
    defined = {v for v in vars(errors).values() if isinstance(v, type) and issubclass(v, FaceprintError)}
    assert set(_ours(tree())) == defined
    assert tree()[0] is FaceprintError  # parents before children
    order = tree()
    assert all(order.index(base) < order.index(cls) for cls in order[1:] for base in cls.__bases__ if base in order)


def test_a_code_is_declared_by_one_class_and_only_inherited_by_the_others() -> None:
    declared: dict[str, list[str]] = {}
    for cls in _ours(tree()):
        if "code" in vars(cls):
            declared.setdefault(cls.code, []).append(cls.__name__)
        else:  # no code of its own: it shares its parent's on purpose
            (parent,) = [b for b in cls.__bases__ if issubclass(b, FaceprintError)]
            assert cls.code == parent.code
    shared = {code: names for code, names in declared.items() if len(names) > 1}
    assert not shared, f"one code declared by several classes: {shared}"


def test_codes_and_statuses_are_what_a_client_can_rely_on() -> None:
    for cls in _ours(tree()):
        assert CODE.fullmatch(cls.code), cls
        assert 400 <= cls.http_status < 600, cls
        if issubclass(cls, BadInput) and "http_status" not in vars(cls):
            assert cls.http_status == 400, cls


def test_shared_codes_are_subclasses() -> None:
    busy = DecodeBusy("the decode budget is full")
    assert isinstance(busy, ConcurrencyLimitExceeded)
    assert (busy.code, busy.http_status) == ("CONCURRENCY_LIMIT_EXCEEDED", 403)
    assert (RequestTimeout.code, RequestTimeout.http_status) == (FaceprintError.code, 500)


@pytest.mark.parametrize(
    ("module", "names"),
    [
        ("faceprint.service.errors", None),
        ("faceprint.liveness.errors", None),
        ("faceprint.liveness.pad", ["PADModelMissing", "PADModelTampered", "UnknownDetector"]),
        ("faceprint.liveness.pad.torchfile", ["TorchFileError"]),
        ("faceprint.service.audit", ["AuditLogTampered", "AuditKeyError"]),
    ],
)
def test_old_import_paths_name_the_classes_of_the_tree(module: str, names: list[str] | None) -> None:
    mod = importlib.import_module(module)
    for name in names if names is not None else mod.__all__:
        assert getattr(mod, name) is getattr(errors, name)


def test_class_keywords_set_code_and_status_and_inherit_the_rest() -> None:
    class Probe(BadInput, code="PROBE_CODE"):
        pass

    class Louder(Probe, http_status=422):
        pass

    assert (Probe.code, Probe.http_status) == ("PROBE_CODE", 400)
    assert (Louder.code, Louder.http_status) == ("PROBE_CODE", 422)
    err = Louder("bad probe", param="probe").about("a.jpg")
    assert err.to_dict() == {"error_code": "PROBE_CODE", "error_message": "a.jpg: bad probe", "param": "probe"}
    assert str(Probe()) == Probe().message == "PROBE_CODE"
