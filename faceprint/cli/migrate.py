"""``faceprint migrate``: move galleries between stores and indexes, with progress and a verification count."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn
from rich.table import Table

from ..gallery import GalleryConfig, GalleryService
from ..gallery.migrate import migrate as run_migration
from ..gallery.store import sqlite_path
from .output import console, handled, print_json

EXIT_MISMATCH = 1


def _data_dir(store: str, data: Path | None) -> Path | None:
    """A SQLite store keeps its FAISS snapshots and locks beside the database file."""
    path = sqlite_path(store)
    return path.parent if data is None and path is not None else data


def register(app: typer.Typer) -> None:
    @app.command("migrate")
    def migrate(
        source: str = typer.Option(..., "--from", help="Source store: sqlite:///path/faceprint.db or postgresql://..."),
        target: str = typer.Option(..., "--to", help="Target store: postgresql://user@host/db or sqlite:///path.db"),
        index: str = typer.Option("faiss", "--index", help="Target index: faiss or milvus://host:19530"),
        source_index: str = typer.Option("faiss", "--from-index", help="Source index (read only to open the source)."),
        tenant: list[str] = typer.Option([], "--tenant", help="Only this tenant (repeatable); default: every tenant."),
        gallery: list[str] = typer.Option([], "--gallery", help="Only this gallery, outer_id or token (repeatable)."),
        data: Path | None = typer.Option(None, "--data", help="Target data directory (FAISS snapshots, locks)."),
        as_json: bool = typer.Option(False, "--json", help="Machine-readable report."),
    ) -> None:
        """Copy galleries, keeping every token; resumable; verified face by face. Exit 1 if a count differs."""
        with handled(as_json):
            src = GalleryService(GalleryConfig(data_dir=_data_dir(source, None), store=source, index=source_index))
            try:
                dst = GalleryService(GalleryConfig(data_dir=_data_dir(target, data), store=target, index=index))
            except BaseException:
                src.close()
                raise
            try:
                columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
                with Progress(*columns, console=console, disable=as_json, transient=False) as bar:
                    tasks: dict[str, TaskID] = {}

                    def progress(name: str, done: int, total: int) -> None:
                        if name not in tasks:
                            tasks[name] = bar.add_task(name, total=total)
                        bar.update(tasks[name], completed=done)

                    report = run_migration(
                        src, dst, tenants=tenant or None, galleries=gallery or None, progress=progress
                    )
            finally:
                dst.close()
                src.close()
        if as_json:
            print_json(report.to_dict())
        else:
            table = Table(title="migration: faces in source / in target after the copy")
            for col in ("tenant", "gallery", "source", "target", "copied", "verified"):
                table.add_column(col)
            for g in report.galleries:
                table.add_row(g.tenant, g.name, str(g.source_faces), str(g.target_faces), str(g.copied),
                              "yes" if g.verified else f"NO: {g.problem}")  # fmt: skip
            console.print(table)
            total = report.to_dict()
            console.print(f"{total['galleries']} galleries, {total['source_faces']} faces in the source, "
                          f"{total['target_faces']} in the target, {total['copied']} copied now")  # fmt: skip
        if not report.ok:
            raise typer.Exit(EXIT_MISMATCH)
