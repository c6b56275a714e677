"""The ``faceprint`` command. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

from .. import __version__
from ..env_files import load_env_files
from . import audit, core, gallery, identify, keys, liveness, migrate, pad, serve, video
from .output import handled
from .words import WordsGroup

app = typer.Typer(cls=WordsGroup, add_completion=False, no_args_is_help=True, help="Self-hosted face recognition.")


def _version(shown: bool) -> None:
    if shown:
        print(f"faceprint {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version and exit."),
) -> None:
    """Self-hosted face recognition: detect, compare, galleries, video, liveness and a Face++ v3-compatible server."""
    with handled():
        load_env_files()  # FACEPRINT_<NAME>_FILE -> FACEPRINT_<NAME> (container secrets)


core.register(app)
gallery.register(app)
identify.register(app)
serve.register(app)
keys.register(app)
audit.register(app)
video.register(app)
liveness.register(app)
migrate.register(app)
pad.register(app, core.models_app)


if __name__ == "__main__":  # pragma: no cover
    app()
