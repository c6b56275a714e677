"""Help a newcomer can read: word placeholders, help on every option, complete summaries, --version."""

import re

import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

import faceprint
from faceprint.cli.main import app
from test_cli import run


def commands(cmd=None, path=()):
    """Every command path of the real CLI tree, groups included."""
    cmd = cmd or typer.main.get_command(app)
    yield path, cmd
    if isinstance(cmd, TyperGroup):
        for name, sub in cmd.commands.items():
            yield from commands(sub, (*path, name))


def help_of(path):
    r = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "100", "TERM": "dumb"})
    assert r.exit_code == 0, r.output
    return r.output


def test_placeholders_read_as_words():
    paths = [p for p, _ in commands()]
    assert len(paths) > 20
    for path in paths:
        text = help_of(path)
        assert not re.search(r"<(bool|int|float|str|path|list|int range|float range)[^>]*>", text), (path, text)
        assert "<=x<=" not in text and "x>=" not in text, (path, text)
    search = help_of(("search",))
    assert re.search(r"--top\s+N \[1 to 100\]", search) and re.search(r"--face\s+N\s", search)
    assert re.search(r"images\.\.\.\s+PATH", help_of(("detect",)))


def test_every_option_and_argument_has_help():
    missing = [(" ".join(path), p.name) for path, cmd in commands() for p in cmd.params if not getattr(p, "help", None)]
    assert missing == []
    assert all(cmd.help for _, cmd in commands())


def test_gallery_summary_lists_every_subcommand():
    group = dict(commands())[("gallery",)]
    for name in group.commands:
        assert name in group.help, (name, group.help)
    assert "update" in help_of(())


def test_version():
    r = run("--version")
    assert r.returncode == 0 and r.stdout.strip() == f"faceprint {faceprint.__version__}"
