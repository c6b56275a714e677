"""faceprint.registry: the one name -> item mechanism behind packs, PAD detectors, specs, stores and index backends."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from faceprint.errors import BadInput, ModelNotFound
from faceprint.registry import Registry, SchemeRegistry

PLUGIN = """
import {registry_module} as host

host.REG.register("lazy", "built by the plug-in")
"""


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Two real modules on sys.path: one holding a registry, one that registers into it when imported."""
    (tmp_path / "h11_reg_host.py").write_text(
        "from faceprint.errors import ModelNotFound\nfrom faceprint.registry import Registry\n"
        "REG: Registry[str] = Registry('widget', ModelNotFound, builtin={'lazy': 'h11_reg_plugin'}, aliases={'old': 'lazy'})\n"
    )
    (tmp_path / "h11_reg_plugin.py").write_text(PLUGIN.format(registry_module="h11_reg_host"))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in ("h11_reg_host", "h11_reg_plugin"):
        sys.modules.pop(name, None)


def test_a_builtin_is_imported_by_module_path_only_when_asked_for(plugin_dir: Path) -> None:
    import h11_reg_host  # type: ignore[import-not-found]

    assert "h11_reg_plugin" not in sys.modules
    assert h11_reg_host.REG.names() == ["lazy"]  # listed without importing it
    assert "h11_reg_plugin" not in sys.modules
    assert h11_reg_host.REG.get("old") == "built by the plug-in"  # an alias, and the module imported now
    assert "h11_reg_plugin" in sys.modules


def test_an_unknown_name_raises_the_registrys_error_naming_what_is_available() -> None:
    reg: Registry[int] = Registry("model pack", ModelNotFound)
    reg.register("b", 2)
    reg.register("a", 1)
    with pytest.raises(ModelNotFound) as exc:
        reg.get("zzz")
    assert exc.value.code == "MODEL_NOT_FOUND" and exc.value.message == "unknown model pack 'zzz'; known: a, b"
    assert reg.find("zzz") is None and reg.get("a") == 1


def test_items_put_builtins_first_in_their_declared_order(plugin_dir: Path) -> None:
    import h11_reg_host

    h11_reg_host.REG.register("early", "registered before the built-in was loaded")
    assert list(h11_reg_host.REG.items()) == ["lazy", "early"]
    h11_reg_host.REG.unregister("early")
    assert h11_reg_host.REG.names() == ["lazy"]


def test_errors_carry_details_and_a_usage_hint() -> None:
    reg: Registry[int] = Registry("PAD detector", BadInput, hint="see faceprint models", details={"param": "pad"}, detail="name")
    with pytest.raises(BadInput) as exc:
        reg.get("x")
    assert exc.value.to_dict() == {"error_code": "BAD_ARGUMENTS", "error_message": "unknown PAD detector 'x'; see faceprint models",
                                   "param": "pad", "name": "x"}  # fmt: skip


def test_a_scheme_registry_picks_by_scheme_and_never_shows_a_password() -> None:
    reg: SchemeRegistry[str] = SchemeRegistry("store", "use sqlite:///path", aliases={"postgres": "postgresql"})
    reg.register("postgresql", "pg")
    assert reg.factory("postgres://u:secret@db/x") == "pg" and reg.scheme("postgres://db") == "postgresql"
    with pytest.raises(BadInput) as exc:
        reg.factory("mysql://admin:hunter2@db/x")
    assert "hunter2" not in str(exc.value.to_dict()) and str(exc.value.details["store"]).startswith("mysql://")
    assert exc.value.message.endswith("use sqlite:///path")
