"""Pages for listening: sources (add, upload a file, refresh from the URL), the outside posts
(filtered, searched, each one a step from an idea), import runs with their progress and
rejected records, share of voice with charts, the brand lexicon, where customers hang out,
and the observed people. Staff only (core/access.py).

An upload is saved, queued as an import run and imported in a background thread; the run
page polls a small JSON endpoint for progress (and refreshes itself without JavaScript).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from convenor.core import access
from convenor.core.errors import ApplicationError
from convenor.feedback import selectors as feedback_selectors
from convenor.listening import selectors, services
from convenor.listening.models import Conduit, ImporterKind, ImportRun, PostKind
from convenor.people.models import Organization, OrgKind
from convenor.web.views import _page

RUNS_PER_PAGE = 30
REJECTIONS_PER_PAGE = 50
PEOPLE_PER_PAGE = 50
POSTS_PER_PAGE = 25
ACCEPT = {
    ImporterKind.RSS: ".xml,.rss,.atom,application/rss+xml,application/atom+xml",
    ImporterKind.DISCOURSE: ".json,.zip",
    ImporterKind.SLACK: ".zip",
    ImporterKind.MBOX: ".mbox,.mbx,.txt",
    ImporterKind.REVIEWS: ".csv,.json",
}


class SourceForm(forms.Form):
    name = forms.CharField(max_length=200)
    importer = forms.ChoiceField(choices=ImporterKind.choices)
    conduit = forms.ChoiceField(choices=[("", "Default for the importer"), *Conduit.choices], required=False)
    url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        label="URL",
        help_text="To fetch and refresh (not for Slack).",
    )
    refresh_minutes = forms.IntegerField(
        required=False, min_value=5, label="Refresh every (minutes)", help_text="Empty: only when asked."
    )


class SourceEditForm(forms.Form):
    """A source's settings. URL and refresh apply only to importers that fetch: a Slack
    export is a zip uploaded by hand, so its form has the name alone."""

    name = forms.CharField(max_length=200)
    url = forms.URLField(required=False, max_length=500, assume_scheme="https", label="URL")
    refresh_minutes = forms.IntegerField(
        required=False,
        min_value=5,
        label="Refresh every (minutes)",
        help_text="Fetched again when “convenor listen refresh” runs (from cron). Empty: only when asked.",
    )

    def __init__(self, *args: Any, fetches: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not fetches:
            del self.fields["url"], self.fields["refresh_minutes"]


class UploadForm(forms.Form):
    file = forms.FileField()


class PostFilterForm(forms.Form):
    q = forms.CharField(required=False, label="Search", widget=forms.TextInput(attrs={"type": "search"}))
    source = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    conduit = forms.ChoiceField(required=False, choices=[("", "Any conduit"), *Conduit.choices])
    kind = forms.ChoiceField(required=False, choices=[("", "Any kind"), *PostKind.choices])

    def __init__(self, *args: Any, sources: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = [("", "Any source"), *sources]  # type: ignore[attr-defined]  # a ChoiceField


class AliasForm(forms.Form):
    organization = forms.IntegerField(widget=forms.HiddenInput)
    alias = forms.CharField(max_length=100, min_length=2)


def _apply_errors(form: forms.Form, exc: ApplicationError) -> None:
    for field, msgs in exc.fields.items():
        for m in msgs:
            form.add_error(field if field in form.fields else None, m)
    if not exc.fields:
        form.add_error(None, exc.message)


# --- sources -------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def source_list(request: HttpRequest) -> HttpResponse:
    user = access.require_listening(request.user)
    can_manage = access.can_manage_listening(user)
    form = SourceForm(request.POST or None)
    if request.method == "POST":
        access.require_listening(user, change=True)
        if form.is_valid():
            d = form.cleaned_data
            try:
                source = services.source_create(
                    name=d["name"],
                    importer=d["importer"],
                    conduit=d["conduit"] or "",
                    url=d["url"] or "",
                    refresh_minutes=d["refresh_minutes"],
                    actor=user,
                )
            except ApplicationError as exc:
                _apply_errors(form, exc)
            else:
                then = (
                    "Upload a file or refresh it from its URL."
                    if source.importer in services.URL_IMPORTERS
                    else "Upload its export to import it."
                )
                messages.success(request, f"Added {source.name}. {then}")
                return redirect("listening:source_detail", source_id=source.pk)
    sources = list(selectors.source_list())
    return render(
        request,
        "web/listening/source_list.html",
        {"sources": sources, "form": form, "can_manage": can_manage, "recent_runs": selectors.run_list()[:5]},
    )


@require_http_methods(["GET", "POST"])
def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    user = access.require_listening(request.user)
    source = access.source_for_view(user, source_id)
    can_manage = access.can_manage_listening(user)
    fetches = source.importer in services.URL_IMPORTERS
    edit = SourceEditForm(
        request.POST or None,
        initial={"name": source.name, "url": source.url, "refresh_minutes": source.refresh_minutes},
        fetches=fetches,
    )
    if request.method == "POST":
        source = access.source_for_change(user, source_id)
        if edit.is_valid():
            d = edit.cleaned_data
            try:
                if fetches:
                    services.source_update(
                        source=source,
                        name=d["name"],
                        url=d["url"] or "",
                        refresh_minutes=d["refresh_minutes"],
                        actor=user,
                    )
                else:
                    services.source_update(source=source, name=d["name"], actor=user)
            except ApplicationError as exc:
                _apply_errors(edit, exc)
            else:
                messages.success(request, "Saved.")
                return redirect("listening:source_detail", source_id=source.pk)
    return render(
        request,
        "web/listening/source_detail.html",
        {
            "source": source,
            "can_manage": can_manage,
            "edit_form": edit,
            "upload_form": UploadForm(),
            "accept": ACCEPT.get(ImporterKind(source.importer), ""),
            "runs": selectors.run_list(source=source)[:10],
            "posts": list(selectors.outside_post_list(source_id=source.pk)[:5]),
            "post_count": source.posts.count(),
            "fetches": fetches,
            "can_refresh": bool(source.url) and fetches,
            "max_upload": settings.MAX_UPLOAD_BYTES,
        },
    )


@require_POST
def source_upload(request: HttpRequest, source_id: int) -> HttpResponse:
    user = access.require_listening(request.user, change=True)
    source = access.source_for_change(user, source_id)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to upload.")
        return redirect("listening:source_detail", source_id=source.pk)
    upload = form.cleaned_data["file"]
    if upload.size > settings.MAX_UPLOAD_BYTES:
        messages.error(
            request,
            f"{upload.name} is {upload.size:,} bytes; uploads are limited to {settings.MAX_UPLOAD_BYTES:,} bytes. "
            "Import larger files with `convenor import` on the server.",
        )
        return redirect("listening:source_detail", source_id=source.pk)
    name = Path(upload.name or "upload").name
    path = services.upload_dir() / f"{uuid.uuid4().hex}-{name[-80:]}"
    with path.open("wb") as fh:
        for chunk in upload.chunks():
            fh.write(chunk)
    run = services.upload_start(source=source, filename=name, path=path, actor=user)
    return redirect("listening:run_detail", run_id=run.pk)


@require_POST
def source_refresh(request: HttpRequest, source_id: int) -> HttpResponse:
    user = access.require_listening(request.user, change=True)
    source = access.source_for_change(user, source_id)
    try:
        run = services.import_url(source=source, actor=user, force=bool(request.POST.get("force")))
    except ApplicationError as exc:
        messages.error(request, exc.message)
        failed = source.runs.order_by("-started_at", "-id").first()
        if failed is not None:
            return redirect("listening:run_detail", run_id=failed.pk)
        return redirect("listening:source_detail", source_id=source.pk)
    messages.success(request, services.run_summary(run))
    return redirect("listening:run_detail", run_id=run.pk)


# --- outside posts ------------------------------------------------------------------------


def post_list(request: HttpRequest) -> HttpResponse:
    """What was imported, newest first: filtered by source, conduit and kind, searched,
    paginated; each post with the ideas it is linked to and a way to make it one."""
    user = access.require_listening(request.user)
    sources = list(selectors.source_list().values_list("pk", "name"))
    form = PostFilterForm(request.GET or None, sources=sources)
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    posts = selectors.outside_post_list(
        source_id=data.get("source"),
        conduit=data.get("conduit") or "",
        kind=data.get("kind") or "",
        q=data.get("q") or "",
    )
    page = _page(request, posts, POSTS_PER_PAGE)
    ids = [p.pk for p in page.object_list]
    linked = feedback_selectors.ideas_for_outside_posts(viewer=user, post_ids=ids)
    return render(
        request,
        "web/listening/post_list.html",
        {
            "form": form,
            "page_obj": page,
            "rows": [(p, linked.get(p.pk, [])) for p in page.object_list],
            "filtered": any(data.values()),
            "anything": page.paginator.count > 0 or selectors.outside_post_list().exists(),
        },
    )


# --- runs ----------------------------------------------------------------------------------


def run_list(request: HttpRequest) -> HttpResponse:
    user = access.require_listening(request.user)
    problems = request.GET.get("problems") == "1"
    page = _page(request, selectors.run_list(failed_only=problems), RUNS_PER_PAGE)
    return render(request, "web/listening/run_list.html", {"page_obj": page, "problems": problems, "viewer": user})


def _run_state(run: ImportRun) -> dict[str, Any]:
    return {
        "id": run.pk,
        "status": run.status,
        "status_label": run.get_status_display(),
        "finished": run.finished,
        "percent": run.percent,
        "done": run.progress_done,
        "total": run.progress_total,
        "created": run.created,
        "updated": run.updated,
        "skipped": run.skipped,
        "rejected": run.rejected,
        "activities": run.activities,
        "people_created": run.people_created,
        "seconds": round(run.seconds, 1),
        "error": run.error,
    }


def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    user = access.require_listening(request.user)
    run = access.import_run_for_view(user, run_id)
    page = _page(request, run.rejections.all(), REJECTIONS_PER_PAGE)
    return render(
        request,
        "web/listening/run_detail.html",
        {"run": run, "page_obj": page, "state": _run_state(run), "running": not run.finished},
    )


def run_progress(request: HttpRequest, run_id: int) -> JsonResponse:
    user = access.require_listening(request.user)
    run = access.import_run_for_view(user, run_id)
    response = JsonResponse(_run_state(run))
    response["Cache-Control"] = "no-store"
    return response


# --- share of voice and the brand lexicon --------------------------------------------------


def _trend_chart(trend: list[dict[str, Any]]) -> dict[str, Any] | None:
    points = [t for t in trend if t["share"] is not None]
    if not points:
        return None
    width, height, left, right, top, bottom = 640, 220, 44, 36, 16, 34
    inner_w, inner_h = width - left - right, height - top - bottom
    step = inner_w / max(1, len(points) - 1)
    out = []
    for i, t in enumerate(points):
        x = left + (i * step if len(points) > 1 else inner_w / 2)
        y = top + inner_h * (1 - t["share"])
        out.append(
            {
                "x": round(x, 1),
                "y": round(y, 1),
                "label": t["key"],
                "pct": round(100 * t["share"]),
                "n": t["ours"] + t["competitors"],
            }
        )
    every = max(1, len(out) // 8)
    for i, p in enumerate(out):
        p["show_label"] = i % every == 0 or i == len(out) - 1
    grid = [{"y": round(top + inner_h * (1 - v / 100), 1), "label": f"{v}%"} for v in (0, 25, 50, 75, 100)]
    return {
        "width": width,
        "height": height,
        "points": out,
        "polyline": " ".join(f"{p['x']},{p['y']}" for p in out),
        "grid": grid,
        "left": left,
        "right": width - right,
        "label_y": height - 12,
    }


def _bars(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    most = max((r["ours"] + r["competitors"] for r in rows), default=0) or 1
    return [
        {
            **r,
            "total": r["ours"] + r["competitors"],
            "w_ours": round(100 * r["ours"] / most, 1),
            "w_comp": round(100 * r["competitors"] / most, 1),
            "pct": None if r["share"] is None else round(100 * r["share"]),
        }
        for r in rows
    ]


def share_of_voice(request: HttpRequest) -> HttpResponse:
    access.require_listening(request.user)
    segment = request.GET.get("segment", "industry")
    if segment not in selectors.SEGMENTS:
        segment = "industry"
    overall = selectors.share_of_voice(by="conduit")
    by_segment = selectors.share_of_voice(by="segment", segment=segment)
    most = max((b["mentions"] for b in overall.brands), default=0) or 1
    brands = [{**b, "w": round(100 * b["mentions"] / most, 1)} for b in overall.brands]
    return render(
        request,
        "web/listening/sov.html",
        {
            "sov": overall,
            "pct": None if overall.share is None else round(100 * overall.share),
            "change": None if overall.trend_change is None else round(100 * overall.trend_change),
            "trend": _trend_chart(overall.trend),
            "conduits": _bars(overall.rows),
            "segments": _bars(by_segment.rows),
            "segment": segment,
            "segment_choices": selectors.SEGMENTS,
            "brands": brands,
            "recent": selectors.mentions_of(limit=10),
            "has_competitors": Organization.objects.filter(kind=OrgKind.COMPETITOR).exists(),
        },
    )


@require_http_methods(["GET", "POST"])
def brand_list(request: HttpRequest) -> HttpResponse:
    user = access.require_listening(request.user)
    form = AliasForm(request.POST or None)
    if request.method == "POST":
        access.require_listening(user, change=True)
        if form.is_valid():
            org = access.brand_for_change(user, form.cleaned_data["organization"])
            try:
                alias = services.brand_alias_add(organization=org, alias=form.cleaned_data["alias"], actor=user)
            except ApplicationError as exc:
                messages.error(request, exc.message)
            else:
                messages.success(request, f"{org.name} is now also found as “{alias.alias}”; mentions recounted.")
            return redirect("listening:brand_list")
        messages.error(request, "An alias is 2 to 100 characters.")
    return render(
        request,
        "web/listening/brands.html",
        {"brands": selectors.brands(), "can_manage": access.can_manage_listening(user)},
    )


@require_POST
def alias_remove(request: HttpRequest, alias_id: int) -> HttpResponse:
    user = access.require_listening(request.user, change=True)
    alias = access.brand_alias_for_change(user, alias_id)
    services.brand_alias_remove(alias=alias, actor=user)
    messages.success(request, f"Removed “{alias.alias}” from {alias.organization.name}; mentions recounted.")
    return redirect("listening:brand_list")


# --- where customers hang out; observed people ---------------------------------------------


def hangouts(request: HttpRequest) -> HttpResponse:
    access.require_listening(request.user)
    segment = request.GET.get("segment", "industry")
    if segment not in selectors.SEGMENTS:
        segment = "industry"
    employees = request.GET.get("employees") == "1"
    segments = selectors.hangouts(segment=segment, include_employees=employees)
    for s in segments:
        most = max((p.posts for p in s.places), default=0) or 1
        for p in s.places:
            p.width = round(100 * p.posts / most, 1)
    return render(
        request,
        "web/listening/hangouts.html",
        {"segments": segments, "segment": segment, "segment_choices": selectors.SEGMENTS, "employees": employees},
    )


def observed_people(request: HttpRequest) -> HttpResponse:
    access.require_listening(request.user)
    page = _page(request, selectors.observed_people(), PEOPLE_PER_PAGE)
    return render(request, "web/listening/observed.html", {"page_obj": page})
