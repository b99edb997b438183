"""Writes for listening: sources, the brand lexicon, and import runs (from a file, from
a URL with a conditional request, in the background for web uploads, and the refresh of
sources that are due)."""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from convenor.core.audit import audit_log
from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.core.models import User
from convenor.listening.fetch import Fetched, check_url, fetch
from convenor.listening.importers.base import Parser, Progress, bad_file, check_document_size, too_large
from convenor.listening.importers.discourse import DiscourseParser, load_json
from convenor.listening.importers.mbox import MboxParser
from convenor.listening.importers.reviews import ReviewsParser
from convenor.listening.importers.rss import RssParser
from convenor.listening.importers.slack import SlackParser
from convenor.listening.models import (
    CONDUIT_FOR,
    BrandAlias,
    BrandMention,
    Conduit,
    ImporterKind,
    ImportRun,
    OutsidePost,
    RunStatus,
    Source,
)
from convenor.listening.pipeline import run_pipeline
from convenor.people.models import Organization, OrgKind

log = logging.getLogger(__name__)

# Importers that can read a URL (a Slack export is a download behind a login).
URL_IMPORTERS = frozenset({ImporterKind.RSS, ImporterKind.DISCOURSE, ImporterKind.REVIEWS, ImporterKind.MBOX})
FILE_ONLY = "a Slack export is imported from its zip file: it has no URL and does not refresh"


def _no_progress(done: int, total: int) -> None:
    return None


# --- sources -------------------------------------------------------------------------------


def _unique_key(importer: str, name: str) -> str:
    base = f"{importer}:{slugify(name)[:80] or 'source'}"
    key, n = base, 2
    while Source.objects.filter(key=key).exists():
        key, n = f"{base}-{n}", n + 1
    return key


def source_create(
    *,
    name: str,
    importer: str,
    conduit: str = "",
    url: str = "",
    refresh_minutes: int | None = None,
    actor: User | None = None,
) -> Source:
    """Add a source. Raises VALIDATION for a bad importer, conduit, URL or interval."""
    name = " ".join(name.split())
    fields: dict[str, list[str]] = {}
    if not name:
        fields["name"] = ["required"]
    elif len(name) > 200:
        fields["name"] = ["at most 200 characters"]
    if importer not in ImporterKind.values:
        fields["importer"] = [f"must be one of {', '.join(ImporterKind.values)}"]
    conduit = conduit or (CONDUIT_FOR[ImporterKind(importer)] if importer in ImporterKind.values else "")
    if conduit not in Conduit.values:
        fields["conduit"] = [f"must be one of {', '.join(Conduit.values)}"]
    if url:
        try:
            url = check_url(url)
        except ApplicationError:
            fields["url"] = ["must start with http:// or https://"]
        if importer in ImporterKind.values and importer not in URL_IMPORTERS:
            fields["url"] = [FILE_ONLY]
    if refresh_minutes is not None and refresh_minutes < 5:
        fields["refresh_minutes"] = ["at least 5 minutes"]
    if refresh_minutes and importer in ImporterKind.values and importer not in URL_IMPORTERS:
        fields.setdefault("refresh_minutes", []).append(FILE_ONLY)
    elif refresh_minutes and not url:
        fields.setdefault("refresh_minutes", []).append("a source refreshes from its URL: give one")
    if fields:
        raise ApplicationError(ErrorCode.VALIDATION, "Some fields are not valid", fields=fields)
    source = Source.objects.create(
        name=name,
        importer=importer,
        conduit=conduit,
        url=url,
        refresh_minutes=refresh_minutes,
        key=_unique_key(importer, name),
    )
    audit_log(actor=actor, action="convenor.listening.source.created", obj=source, summary=source.name)
    return source


def source_update(
    *,
    source: Source,
    name: str | None = None,
    url: str | None = None,
    refresh_minutes: int | None = -1,
    actor: User | None = None,
) -> Source:
    fields: dict[str, list[str]] = {}
    if name is not None:
        name = " ".join(name.split())
        if not name:
            fields["name"] = ["required"]
        source.name = name[:200]
    if url is not None:
        if url:
            try:
                url = check_url(url)
            except ApplicationError:
                fields["url"] = ["must start with http:// or https://"]
        source.url = url
        source.etag = source.last_modified = ""
    if refresh_minutes != -1:
        if refresh_minutes is not None and refresh_minutes < 5:
            fields["refresh_minutes"] = ["at least 5 minutes"]
        source.refresh_minutes = refresh_minutes
    if source.importer not in URL_IMPORTERS:
        if source.url:
            fields.setdefault("url", []).append(FILE_ONLY)
        if source.refresh_minutes:
            fields.setdefault("refresh_minutes", []).append(FILE_ONLY)
    elif source.refresh_minutes and not source.url:
        fields.setdefault("refresh_minutes", []).append("a source refreshes from its URL: give one")
    if fields:
        raise ApplicationError(ErrorCode.VALIDATION, "Some fields are not valid", fields=fields)
    source.save()
    audit_log(actor=actor, action="convenor.listening.source.updated", obj=source, summary=source.name)
    return source


def _label(filename: str, url: str, name: str, importer: str) -> str:
    return (name or (url and url.split("//", 1)[-1].rstrip("/")) or Path(filename).name or importer)[:200]


def source_find(*, importer: str, filename: str = "", url: str = "", name: str = "") -> Source | None:
    """The source an import from the command line goes to, if it exists: the one with this
    URL, else the one named `name` (or after the file)."""
    if url:
        found = Source.objects.filter(url=url, importer=importer).first()
        if found is not None:
            return found
    return Source.objects.filter(name=_label(filename, url, name, importer), importer=importer).first()


def source_for_import(*, importer: str, filename: str = "", url: str = "", name: str = "") -> Source:
    """:func:`source_find`, creating the source on first use. The same file imported again
    lands in the same source, which is what makes re-imports idempotent."""
    found = source_find(importer=importer, filename=filename, url=url, name=name)
    if found is not None:
        return found
    return source_create(name=_label(filename, url, name, importer), importer=importer, url=url)


# --- the brand lexicon ---------------------------------------------------------------------


def _brand_org(organization: Organization) -> None:
    if organization.kind not in (OrgKind.OURS, OrgKind.COMPETITOR):
        raise invalid(
            f"{organization.name} is neither our company nor a competitor",
            organization="brand aliases belong to our company or a competitor",
        )


def brand_alias_add(*, organization: Organization, alias: str, actor: User | None = None) -> BrandAlias:
    """Add an alias (a product name, a short name) to a brand; then recount its mentions."""
    _brand_org(organization)
    alias = " ".join(alias.split())
    if len(alias) < 2 or len(alias) > 100:
        raise invalid("An alias is 2 to 100 characters", alias="2 to 100 characters")
    taken = (
        BrandAlias.objects.filter(alias__iexact=alias)
        .exclude(organization=organization)
        .select_related("organization")
        .first()
    )
    if taken is not None or Organization.objects.filter(name_key=alias.lower()).exclude(pk=organization.pk).exists():
        owner = taken.organization.name if taken else alias
        raise ApplicationError(
            ErrorCode.DUPLICATE, f"{alias!r} already names {owner}", fields={"alias": [f"already names {owner}"]}
        )
    obj, _ = BrandAlias.objects.get_or_create(organization=organization, alias=alias)
    audit_log(actor=actor, action="convenor.listening.alias.added", obj=organization, summary=alias)
    mentions_rebuild()
    return obj


def brand_alias_remove(*, alias: BrandAlias, actor: User | None = None) -> None:
    organization = alias.organization
    text = alias.alias
    alias.delete()
    audit_log(actor=actor, action="convenor.listening.alias.removed", obj=organization, summary=text)
    mentions_rebuild()


def mentions_rebuild(*, progress: Progress = _no_progress) -> int:
    """Find every brand mention again after the lexicon changed; returns how many there are.

    Sentiment is scored for posts that gain a mention and had none. The activity log keeps
    the mentions it recorded (it is append-only); share of voice reads the mention table."""
    from convenor.listening import sentiment
    from convenor.listening.lexicon import load_lexicon

    lex = load_lexicon()
    total = OutsidePost.objects.count()
    done = 0
    with transaction.atomic():
        BrandMention.objects.all().delete()
        last = 0
        while True:
            chunk = list(
                OutsidePost.objects.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "title", "text", "conduit", "author_id", "sentiment", "occurred_at")[:5000]
            )
            if not chunk:
                break
            last = chunk[-1][0]
            rows: list[BrandMention] = []
            scored: list[OutsidePost] = []
            for pk, title, text, conduit, author_id, sent, when in chunk:
                brands = lex.find(title, text)
                if brands and sent is None:
                    sent = sentiment.score(f"{title}\n{text}" if title else text)
                    scored.append(OutsidePost(pk=pk, sentiment=sent))
                rows.extend(
                    BrandMention(
                        post_id=pk,
                        organization_id=org,
                        ours=org in lex.ours,
                        conduit=conduit,
                        author_id=author_id,
                        sentiment=sent,
                        occurred_at=when,
                    )
                    for org in brands
                )
            BrandMention.objects.bulk_create(rows)
            if scored:
                OutsidePost.objects.bulk_update(scored, ["sentiment"])
            done += len(chunk)
            progress(done, total)
    return BrandMention.objects.count()


# --- import runs ---------------------------------------------------------------------------


def run_create(*, source: Source | None, importer: str, filename: str, actor: User | None = None) -> ImportRun:
    return ImportRun.objects.create(
        source=source, importer=importer, filename=filename[:500], actor=actor if actor and actor.pk else None
    )


def _parser_for_file(importer: str, path: Path, filename: str) -> Parser:
    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError as exc:
        raise bad_file(filename, f"cannot read the file ({exc.strerror})") from None
    if not path.exists():
        raise bad_file(filename, "no such file")
    if size > settings.LISTENING_MAX_FILE_BYTES:
        raise too_large(filename, size, settings.LISTENING_MAX_FILE_BYTES)
    if importer == ImporterKind.SLACK:
        return SlackParser(str(path), filename)
    if importer == ImporterKind.MBOX:
        return MboxParser(path, filename)
    if importer == ImporterKind.DISCOURSE:
        return DiscourseParser.from_path(path, filename)
    check_document_size(filename, size)
    data = path.read_bytes()
    if importer == ImporterKind.RSS:
        return RssParser(data, filename)
    return ReviewsParser(data, filename)


def _progress_saver(run: ImportRun, progress: Progress) -> Progress:
    last = [0.0]

    def report(done: int, total: int) -> None:
        progress(done, total)
        now = time.monotonic()
        if now - last[0] >= 0.5 or (total and done >= total):
            last[0] = now
            run.progress_done, run.progress_total = done, max(total, done) if total else 0
            ImportRun.objects.filter(pk=run.pk).update(
                progress_done=run.progress_done, progress_total=run.progress_total
            )

    return report


def _finish(run: ImportRun, status: str, error: str = "") -> ImportRun:
    run.status = status
    run.error = error[:4000]
    run.finished_at = timezone.now()
    run.seconds = (run.finished_at - run.started_at).total_seconds()
    if status == RunStatus.DONE and run.progress_total:
        run.progress_done = run.progress_total
    run.save()
    audit_log(
        actor=run.actor,
        action=f"convenor.listening.import.{status}",
        obj=run,
        summary=error.splitlines()[0][:200] if error else run_summary(run),
    )
    return run


# Why a run that read a document found nothing in it, said instead of a row of zeros.
EMPTY_NOTE: dict[str, str] = {
    ImporterKind.RSS: "the feed has no entries",
    ImporterKind.DISCOURSE: "it holds no topics or posts",
    ImporterKind.SLACK: "the export holds no messages",
    ImporterKind.MBOX: "the archive holds no mails",
    ImporterKind.REVIEWS: "it holds no reviews",
}


def run_read_records(run: ImportRun) -> bool:
    """Whether the run found any record at all, taken, skipped or rejected."""
    return bool(run.created or run.updated or run.skipped or run.rejected)


def run_summary(run: ImportRun) -> str:
    if run.status == RunStatus.NOT_MODIFIED:
        return f"{run.filename}: not modified since the last fetch"
    if run.status == RunStatus.FAILED:
        return f"{run.filename}: {run.error}"
    if run.status == RunStatus.DONE and not run_read_records(run):
        return f"{run.filename}: nothing imported: {EMPTY_NOTE.get(run.importer, 'it holds no records')}"
    return (
        f"{run.filename}: {run.created:,} created, {run.updated:,} updated, {run.skipped:,} skipped, "
        f"{run.rejected:,} rejected; {run.activities:,} activities, {run.people_created:,} people observed "
        f"({run.seconds:.1f}s)"
    )


def _execute(run: ImportRun, make: Callable[[], Parser | None], progress: Progress) -> ImportRun:
    """Open the parser (a file that cannot be read fails here, before any write), then
    import. Every outcome is recorded on the run; ApplicationErrors are re-raised."""
    run.status = RunStatus.RUNNING
    run.started_at = timezone.now()
    run.save(update_fields=["status", "started_at"])
    try:
        parser = make()
        if parser is None:
            return _finish(run, RunStatus.NOT_MODIFIED)
        run.progress_total = parser.total
        run.save(update_fields=["progress_total"])
        assert run.source is not None
        run_pipeline(source=run.source, run=run, records=parser.records(_progress_saver(run, progress)))
    except ApplicationError as exc:
        _finish(run, RunStatus.FAILED, exc.message)
        raise
    except Exception as exc:
        # One line for whoever ran it (the CLI's stderr is the console log); the traceback
        # with CONVENOR_LOG_LEVEL=DEBUG, or `convenor --debug`, which re-raises the chain.
        log.error(
            "import run %s failed: %s: %s", run.pk, type(exc).__name__, exc, exc_info=log.isEnabledFor(logging.DEBUG)
        )
        _finish(run, RunStatus.FAILED, f"{type(exc).__name__}: {exc}")
        raise ApplicationError(ErrorCode.INTERNAL, f"The import failed: {type(exc).__name__}: {exc}") from exc
    except BaseException:
        _finish(run, RunStatus.FAILED, "interrupted; run the import again to finish it")
        raise
    return _finish(run, RunStatus.DONE)


def import_file(
    *,
    importer: str,
    path: Path,
    source: Source | None = None,
    source_name: str = "",
    filename: str = "",
    actor: User | None = None,
    progress: Progress = _no_progress,
    run: ImportRun | None = None,
) -> ImportRun:
    """Import a file (or, for Discourse, a folder) into `source` (found or created from the
    file's name, or `source_name`, when not given). Returns the finished run; raises ApplicationError
    (BAD_FILE, TOO_LARGE) when the file cannot be read at all, after recording the run."""
    if importer not in ImporterKind.values:
        raise invalid(f"Unknown importer {importer!r}", importer=f"one of {', '.join(ImporterKind.values)}")
    filename = filename or path.name
    if source is None:
        # A file that cannot be read at all creates no source either: only the failed run.
        try:
            parser = _parser_for_file(importer, path, filename)
        except ApplicationError as exc:
            failed = run_create(source=None, importer=importer, filename=filename, actor=actor)
            _finish(failed, RunStatus.FAILED, exc.message)
            raise
        source = source_for_import(importer=importer, filename=filename, name=source_name)
        run = run_create(source=source, importer=importer, filename=filename, actor=actor)
        return _execute(run, lambda: parser, progress)
    run = run or run_create(source=source, importer=importer, filename=filename, actor=actor)
    return _execute(run, lambda: _parser_for_file(importer, path, filename), progress)


def _url_parser(source: Source, run: ImportRun, got: Fetched, workdir: Path) -> Parser:
    if source.importer == ImporterKind.RSS:
        return RssParser(got.body, got.url, fetch_comments=lambda u: fetch(u, accept="application/rss+xml, */*").body)
    if source.importer == ImporterKind.DISCOURSE:
        base = source.url.rstrip("/").removesuffix("/latest.json")

        def topic(tid: int) -> tuple[str, Any]:
            u = f"{base}/t/{tid}.json"
            return u, load_json(fetch(u, accept="application/json").body, u)

        return DiscourseParser([(got.url, load_json(got.body, got.url))], got.url, base_url=base, fetch_topic=topic)
    if source.importer == ImporterKind.MBOX:
        path = workdir / "archive.mbox"
        path.write_bytes(got.body)
        return MboxParser(path, got.url)
    return ReviewsParser(got.body, got.url)


def import_url(
    *, source: Source, actor: User | None = None, progress: Progress = _no_progress, force: bool = False
) -> ImportRun:
    """Fetch the source's URL (conditionally: an unchanged one answers 304 and the run is
    "not modified") and import it. Raises ApplicationError as import_file does."""
    if not source.url:
        raise invalid(f"{source.name} has no URL", url="required to fetch")
    if source.importer not in URL_IMPORTERS:
        raise invalid(f"{source.get_importer_display()} sources are imported from files", url="not supported")
    run = run_create(source=source, importer=source.importer, filename=source.url, actor=actor)
    with tempfile.TemporaryDirectory(prefix="convenor-fetch-") as tmp:

        def make() -> Parser | None:
            target = source.url
            if source.importer == ImporterKind.DISCOURSE and not target.rstrip("/").endswith(".json"):
                target = target.rstrip("/") + "/latest.json"
            got = fetch(
                target,
                etag="" if force else source.etag,
                last_modified="" if force else source.last_modified,
            )
            Source.objects.filter(pk=source.pk).update(last_fetched_at=timezone.now())
            source.last_fetched_at = timezone.now()
            if got.status == 304:
                return None
            parser = _url_parser(source, run, got, Path(tmp))
            # Remember the validators only once the document parsed, so a bad one is fetched again.
            source.etag, source.last_modified = got.etag[:255], got.last_modified[:64]
            Source.objects.filter(pk=source.pk).update(etag=source.etag, last_modified=source.last_modified)
            return parser

        return _execute(run, make, progress)


def sources_refresh_due(*, progress: Callable[[Source], Progress] | None = None) -> list[ImportRun]:
    """Refresh every source whose interval has passed (for cron). A source that fails is
    recorded as a failed run and the others still refresh."""
    runs: list[ImportRun] = []
    for source in Source.objects.filter(refresh_minutes__isnull=False).exclude(url="").order_by("pk"):
        if not source.is_due:
            continue
        try:
            runs.append(import_url(source=source, progress=progress(source) if progress else _no_progress))
        except ApplicationError:
            run = source.runs.order_by("-started_at", "-id").first()
            if run is not None:
                runs.append(run)
    return runs


# --- web uploads in the background ---------------------------------------------------------


def upload_dir() -> Path:
    path = Path(settings.DATA_DIR) / "listening-uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def upload_start(*, source: Source, filename: str, path: Path, actor: User | None) -> ImportRun:
    """Queue an uploaded file and import it in a background thread (or at once when
    settings.LISTENING_BACKGROUND_IMPORTS is off); the run page follows its progress."""
    run = run_create(source=source, importer=source.importer, filename=filename, actor=actor)
    run.upload_path = str(path)
    run.save(update_fields=["upload_path"])
    if settings.LISTENING_BACKGROUND_IMPORTS:
        # Start after the request's transaction (if any) commits, so the thread sees the run.
        transaction.on_commit(lambda: threading.Thread(target=_upload_thread, args=(run.pk,), daemon=True).start())
    else:
        upload_import(run.pk)
    return run


def _upload_thread(run_id: int) -> None:
    try:
        upload_import(run_id)
    finally:
        close_old_connections()
        connection.close()


def upload_import(run_id: int) -> None:
    """Import a queued upload; the outcome is on the run (errors are not raised)."""
    run = ImportRun.objects.select_related("source", "actor").get(pk=run_id)
    path = Path(run.upload_path)
    try:
        import_file(
            importer=run.importer, path=path, source=run.source, filename=run.filename, actor=run.actor, run=run
        )
    except ApplicationError:
        pass
    finally:
        path.unlink(missing_ok=True)
        ImportRun.objects.filter(pk=run_id).update(upload_path="")
