"""Help that reads as words: ``--top N (1 to 100)`` rather than ``<int range> [1<=x<=100]``.

Typer shows a parameter's Python type as its placeholder (``<bool>``, ``<list[Path]>``). The
root command's group walks every command once, when the CLI is built, and gives each parameter
a placeholder word for its type (a flag gets none), unless the parameter names its own
``metavar``. Commands added later by any module get the same treatment with no change there.
"""

from __future__ import annotations

from typing import Any

from typer._click.core import Command, Context
from typer.core import TyperArgument, TyperGroup, TyperOption

# Type name as Typer reports it -> the word shown in help.
WORDS = {"int": "N", "float": "NUMBER", "str": "TEXT", "Path": "PATH", "path": "PATH", "file": "FILE", "directory": "DIR"}


def word_for(param: TyperOption | TyperArgument, ctx: Context) -> str:
    label = param.display_type(ctx).strip("<>")
    label = label.removeprefix("list[").removesuffix("]").removesuffix(" range")
    if "|" in label:  # a choice: its values are the words
        return label
    return WORDS.get(label, label.upper())


def _range(low: float | None, high: float | None) -> str | None:
    if low is None and high is None:
        return None
    if high is None:
        return f"at least {low}"
    if low is None:
        return f"at most {high}"
    return f"{low} to {high}"


class WordOption(TyperOption):
    def display_type_rich(self, ctx: Context) -> str | None:
        if self.is_flag or self.count:
            return None
        word = self.metavar or word_for(self, ctx)
        return word + ("..." if self.nargs != 1 else "")

    def _get_number_range_help_str(self) -> str | None:
        return _range(self.min, self.max)


class WordArgument(TyperArgument):
    def display_type_rich(self, ctx: Context) -> str | None:
        return word_for(self, ctx)

    def _get_number_range_help_str(self) -> str | None:
        return _range(self.min, self.max)


def plain_words(command: Command) -> None:
    """Give every parameter of ``command`` and of everything under it a word placeholder."""
    ctx = Context(command)
    help_option = command.get_help_option(ctx)
    for param in [*command.params, *([help_option] if help_option is not None else [])]:
        if type(param) is TyperOption:
            param.__class__ = WordOption
        elif type(param) is TyperArgument:
            param.__class__ = WordArgument
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            plain_words(sub)


class WordsGroup(TyperGroup):
    """The root group: built with its commands, then their help made to read as words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plain_words(self)
