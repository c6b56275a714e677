"""``faceprint gallery create|list|show|delete``, ``enroll``, ``search`` and ``remove``."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.progress import Progress

from ..compare import FAR_LEVELS
from ..errors import BadInput, InvalidFaceToken, TooManyFaces
from ..gallery import EnrolOptions, FaceSetUpdate, GalleryConfig, GalleryService, SearchOptions
from ..gallery.enrol import IMAGE_SUFFIXES, EnrolItem, folder_items
from ..parallel import default_workers
from ..parallel.enrol import enrol_pooled
from ..redact import mask_url
from ..types import Quality
from .output import EXIT_ERROR, confirm, console, err_console, handled, print_json, table
from .state import DataOpt

PackOpt = typer.Option(None, "--pack", envvar="FACEPRINT_PACK", help="Model pack for a new gallery.")
JsonOpt = typer.Option(False, "--json", help="Machine-readable output.")
TenantOpt = typer.Option(
    "default", "--tenant", help="Tenant the galleries belong to; a server key sees them if made with this --tenant."
)

POOL_FROM = 128  # fewer images than this are enrolled in this process: starting workers (~1.5 s of imports each) would not pay

gallery_app = typer.Typer(no_args_is_help=True, help="Galleries (FaceSets): create, list, show, update, delete.")


@contextmanager
def service(data: Path | None, pack: str | None = None, *, tenant: str = "default") -> Iterator[GalleryService]:
    """The gallery service, after saying on stderr (stdout stays clean for --json) which data it uses."""
    with GalleryService(GalleryConfig(data_dir=data, pack=pack)) as svc:
        typer.echo(f"faceprint: data {svc.data_dir.resolve()} (store {mask_url(svc.store_url)}), tenant {tenant!r}", err=True)
        yield svc


@gallery_app.command("create")
def create(
    name: str = typer.Argument(..., help="outer_id: your unique name for the gallery."),
    display_name: str = typer.Option("", "--display-name", help="A name for people to read."),
    tags: list[str] = typer.Option([], "--tag", help="A tag (repeatable)."),
    user_data: str = typer.Option("", "--user-data", help="Up to 16 KB of your own data."),
    index_spec: str = typer.Option("auto", "--index", help='Index structure: "auto", "Flat", "IVF1024,PQ64x4fs,Refine".'),
    data: Path | None = DataOpt,
    pack: str | None = PackOpt,
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Create a gallery."""
    with handled(as_json), service(data, pack, tenant=tenant) as svc:
        fs = svc.create(name, display_name=display_name, tags=tags, user_data=user_data, index_spec=index_spec, tenant=tenant)
        print_json(fs.to_dict()) if as_json else console.print(f"created {fs.name} ({fs.token}, {fs.pack})")


@gallery_app.command("list")
def list_(
    start: int = typer.Option(0, "--start", min=0, help="Skip this many galleries (from the last page's \"more:\" line)."),
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="Galleries per page."),
    tag: str | None = typer.Option(None, "--tag", help="Only galleries with this tag."),
    data: Path | None = DataOpt,
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """List galleries, a page at a time."""
    with handled(as_json), service(data, tenant=tenant) as svc:
        page = svc.galleries(start, limit, tag=tag, tenant=tenant)
        if as_json:
            print_json({"facesets": [fs.to_dict() for fs in page.items], "total": page.total, "next_start": page.next_start})
            return
        rows = [(fs.outer_id or "", fs.token, str(fs.face_count), fs.pack, fs.index_spec, ",".join(fs.tags)) for fs in page.items]
        names = ("outer_id", "faceset_token", "faces", "pack", "index", "tags")
        console.print(table(names, rows, tokens=("faceset_token",), title=f"{page.total} galler{'y' if page.total == 1 else 'ies'}"))
        if page.next_start is not None:
            console.print(f"more: --start {page.next_start}")


@gallery_app.command("show")
def show(
    name: str = typer.Argument(..., help="outer_id or faceset_token."),
    start: int = typer.Option(0, "--start", min=0, help="Skip this many faces (from the last page's \"more:\" line)."),
    limit: int = typer.Option(100, "--limit", min=1, max=1000, help="Faces per page."),
    subject: str | None = typer.Option(None, "--subject", help="Only this subject's faces."),
    data: Path | None = DataOpt,
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """A gallery's details and its faces, a page at a time."""
    with handled(as_json), service(data, tenant=tenant) as svc:
        fs = svc.get(name, tenant=tenant)
        page = svc.faces(fs.token, start, limit, subject=subject, tenant=tenant)
        if as_json:
            print_json({**fs.to_dict(), "faces": [f.to_dict() for f in page.items], "next_start": page.next_start})
            return
        console.print(f"{fs.name}: {fs.face_count} faces, pack {fs.pack}, index {fs.index_spec}, token {fs.token}")
        rows = [(f.token, f.subject, "" if f.quality is None else f"{f.quality:.0f}") for f in page.items]
        console.print(table(("face_token", "user_id", "quality"), rows, tokens=("face_token",)))
        if page.next_start is not None:
            console.print(f"more: --start {page.next_start}")


@gallery_app.command("delete")
def delete(
    name: str = typer.Argument(..., help="outer_id or faceset_token."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation (needed when not at a terminal)."),
    data: Path | None = DataOpt,
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Delete a gallery and erase every face in it (asks first; --yes to skip)."""
    with handled(as_json), service(data, tenant=tenant) as svc:
        fs = svc.get(name, tenant=tenant)
        confirm(f"Delete gallery {fs.name} and erase its {fs.face_count} face(s)? This cannot be undone.", yes)
        n = svc.delete(name, tenant=tenant)
        print_json({"deleted": name, "faces_erased": n}) if as_json else console.print(f"deleted {name}: {n} faces erased")


def enroll(
    gallery: str = typer.Argument(..., help="outer_id or faceset_token."),
    paths: list[Path] = typer.Argument(..., help="Images of --subject, or one folder DIR/<subject>/*.jpg."),
    subject: str | None = typer.Option(None, "--subject", help="Who the images show (not with a folder)."),
    face: int | None = typer.Option(None, "--face", help="With several faces in an image, enrol this one (0 = largest)."),
    min_quality: float = typer.Option(Quality.THRESHOLD, "--min-quality", help="Refuse faces below this quality (0-100)."),
    thumbnails: bool = typer.Option(False, "--thumbnails", help="Also store the aligned face thumbnail."),
    workers: int | None = typer.Option(None, "--workers", min=1, max=256, help="Processes that detect and embed (default: one per core from 128 images on, env FACEPRINT_WORKERS)."),
    data: Path | None = DataOpt,
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Enrol images of one subject, or a folder tree DIR/<subject>/*.jpg."""
    with handled(as_json), service(data, tenant=tenant) as svc:
        opts = EnrolOptions(min_quality=min_quality, face=face, keep_thumbnail=thumbnails)
        folder = len(paths) == 1 and paths[0].is_dir()
        if folder and subject is not None:
            raise BadInput("a folder names its subjects by its sub-folders: drop --subject")
        if not folder and subject is None:
            raise BadInput("say who the images show with --subject, or give one folder DIR/<subject>/*.jpg")
        items = folder_tree(paths[0]) if folder else [EnrolItem(str(p), p, subject or "") for p in paths]
        with Progress(console=console, transient=True, disable=as_json) as bar:
            task = bar.add_task("enrolling", total=None)
            step = lambda done, total: bar.update(task, completed=done, total=total)  # noqa: E731
            n = default_workers(workers)
            if n > 1 and (workers is not None or len(items) >= POOL_FROM):
                report = enrol_pooled(svc, gallery, items, opts, workers=n, tenant=tenant, progress=step)
            else:
                report = svc.enroll_items(gallery, items, opts, tenant=tenant, progress=step)
        if as_json:
            print_json(report.to_dict())
        else:
            rate = len(report.enrolled) / report.seconds if report.seconds else 0.0
            console.print(f"enrolled {len(report.enrolled)}, rejected {len(report.rejected)}, duplicates {len(report.duplicates)}"
                          f" in {report.seconds:.1f}s ({rate:.1f} faces/s)")  # fmt: skip
            for r in report.rejected:
                console.print(f"  rejected {r.source}: {r.code}: {r.reason}", soft_wrap=True, markup=False)
            if any(r.code == TooManyFaces.code for r in report.rejected):
                console.print("  hint: pass --face 0 to enrol the largest face of each such photo (faces are numbered as in"
                              " `faceprint detect`, largest first)", soft_wrap=True, markup=False)  # fmt: skip
            for d in report.duplicates:
                console.print(f"  duplicate {d}")
        if not report.enrolled and (report.rejected or not report.duplicates):
            raise typer.Exit(1)


def search(
    gallery: str = typer.Argument(..., help="outer_id or faceset_token; several separated by commas."),
    image: Path = typer.Argument(..., help="Probe image."),
    top: int = typer.Option(5, "--top", min=1, max=100, help="How many results (1-100)."),
    by: str = typer.Option("subject", "--by", help='"subject": the best face of each subject; "face": every face.'),
    far: str = typer.Option("1e-4", "--far", help=f"Operating point for known/unknown: {', '.join(FAR_LEVELS)}."),
    face: int | None = typer.Option(None, "--face", help="Which face of the probe (0 = largest)."),
    data: Path | None = DataOpt,
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Search galleries with a probe image. Exit 0 when identified, 1 when unknown."""
    with handled(as_json), service(data, tenant=tenant) as svc:
        result = svc.search(gallery.split(","), image, SearchOptions(top, by, far, face), tenant=tenant)
        if as_json:
            print_json(result.to_dict())
        else:
            console.print(f"{image}: {result.subject or 'unknown'} (threshold at FAR {far}: {result.thresholds[far]:.1f})")
            rows = [(str(i + 1), m.subject, f"{m.confidence:.1f}", f"{m.score:.3f}", m.face_token) for i, m in enumerate(result.matches)]
            console.print(table(("#", "user_id", "confidence", "similarity", "face_token"), rows, tokens=("face_token",)))
    if not result.known:
        raise typer.Exit(1)


def remove(
    gallery: str = typer.Argument(..., help="outer_id or faceset_token."),
    faces: list[str] = typer.Option([], "--face", help="face_token to erase (repeatable)."),
    subject: str | None = typer.Option(None, "--subject", help="Erase every face of this subject."),
    data: Path | None = DataOpt,
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Erase faces, or every face of a subject, from a gallery and its index files."""
    with handled(as_json), service(data, tenant=tenant) as svc:
        if bool(faces) == (subject is not None):
            raise BadInput("give --face TOKEN (repeatable) or --subject S")
        fs = svc.get(gallery, tenant=tenant)
        unknown = [t for t in faces if not _holds(svc, fs.token, t, tenant)]
        n = (
            svc.remove_subject(gallery, subject, tenant=tenant)
            if subject is not None
            else svc.remove_faces(gallery, [t for t in faces if t not in unknown], tenant=tenant)
        )
        if as_json:
            print_json({"removed": n, **({"unknown": unknown} if unknown else {})})
        else:
            console.print(f"removed {n} face(s)")
        if unknown:
            err_console.print(f"[bold red]{InvalidFaceToken.code}[/]: not in {fs.name}: {', '.join(unknown)}", soft_wrap=True)
            raise typer.Exit(EXIT_ERROR)


def _holds(svc: GalleryService, faceset_token: str, face_token: str, tenant: str) -> bool:
    try:
        return svc.face(face_token, tenant=tenant).faceset_token == faceset_token
    except InvalidFaceToken:
        return False


def folder_tree(root: Path) -> list[EnrolItem]:
    """The photos of ROOT/<subject>/*.jpg, or an error that says why there are none."""
    items = folder_items(root)
    if items:
        return items
    loose = [p for p in sorted(root.iterdir()) if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES]
    if loose:
        raise BadInput(f"{root} holds {len(loose)} photo(s) but no sub-folders: a folder must be laid out as"
                       f" {root}/<subject>/*.jpg; to enrol these as one person, give the files with"
                       f" --subject NAME (e.g. {root}/*.jpg --subject NAME)")  # fmt: skip
    raise BadInput(f"{root} holds no photos: a folder must be laid out as {root}/<subject>/*.jpg"
                   f" ({', '.join(IMAGE_SUFFIXES)})")  # fmt: skip


def update(
    gallery: str = typer.Argument(..., help="outer_id or faceset_token."),
    new_name: str | None = typer.Option(None, "--outer-id", help="A new outer_id."),
    display_name: str | None = typer.Option(None, "--display-name", help="A new display name."),
    user_data: str | None = typer.Option(None, "--user-data", help="New user data (up to 16 KB)."),
    data: Path | None = DataOpt,
    tenant: str = TenantOpt,
    as_json: bool = JsonOpt,
) -> None:
    """Change a gallery's outer_id, display name or user data."""
    with handled(as_json), service(data, tenant=tenant) as svc:
        fs = svc.update(gallery, FaceSetUpdate(new_name, display_name, None, user_data), tenant=tenant)
        print_json(fs.to_dict()) if as_json else console.print(f"updated {fs.name}")


def register(app: typer.Typer) -> None:
    gallery_app.command("update")(update)
    app.add_typer(gallery_app, name="gallery")
    app.command()(enroll)
    # "enrol" (British) is the deprecated spelling: it still works, unlisted, and says so on stderr
    app.command("enrol", hidden=True, deprecated=True)(enroll)
    app.command()(search)
    app.command()(remove)
