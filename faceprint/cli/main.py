"""The ``faceprint`` command. Each command group lives in its own module and registers here."""

from __future__ import annotations

import typer

from . import audit, core, gallery, identify, keys, liveness, migrate, serve, video

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Self-hosted face recognition.")
core.register(app)
gallery.register(app)
identify.register(app)
serve.register(app)
keys.register(app)
audit.register(app)
video.register(app)
liveness.register(app)
migrate.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
