"""The ``faceprint`` command. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

from ..env_files import load_env_files
from . import audit, core, gallery, keys, liveness, migrate, pad, serve, video
from .output import handled

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Self-hosted face recognition.")


@app.callback()
def settings_from_files() -> None:
    """Self-hosted face recognition."""
    with handled():
        load_env_files()  # FACEPRINT_<NAME>_FILE -> FACEPRINT_<NAME> (container secrets)

core.register(app)
gallery.register(app)
serve.register(app)
keys.register(app)
audit.register(app)
video.register(app)
liveness.register(app)
migrate.register(app)
pad.register(app, core.models_app)


if __name__ == "__main__":  # pragma: no cover
    app()
