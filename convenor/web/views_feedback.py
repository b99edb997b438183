"""Pages for feedback: boards, the board (ideas by top/new/trending), the idea page (vote,
follow, comment, status history, merge for staff, where it came from), turning a post or an
outside post into an idea, the roadmap, the demand view for staff, and the changelog with its
RSS feed.

Thin like the rest of the web app: ids from the URL go through the permission gate
(core/access.py), reads through convenor.feedback.selectors, writes through
convenor.feedback.services. Mounted at /ideas/ (convenor/feedback/urls.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.feedgenerator import Rss201rev2Feed
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_http_methods, require_POST

from convenor.core import access
from convenor.core.errors import ApplicationError
from convenor.core.models import User
from convenor.feedback import selectors, services
from convenor.feedback.models import Board, BoardVisibility, Idea, IdeaStatus
from convenor.listening import selectors as listening_selectors
from convenor.people.models import OrgKind
from convenor.spaces.markdown import render as render_markdown
from convenor.web import forms, forms_feedback
from convenor.web.views import _page, _safe_next, _viewer
from convenor.web.views_spaces import _member, _readable, _say, _viewer_member, post_url

IDEAS_PER_PAGE = 20
CHANGELOG_PER_PAGE = 20
FEED_ITEMS = 50


def _to_idea(idea: Idea) -> HttpResponse:
    return redirect("feedback:idea_detail", idea_id=idea.pk)


def _customers(user: Any) -> list[tuple[int, str]]:
    return list(
        access.visible_organizations(user).filter(kind=OrgKind.CUSTOMER).order_by("name").values_list("pk", "name")
    )


# --- boards ---------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def board_list(request: HttpRequest) -> HttpResponse:
    """The boards the viewer may read; feedback admins create boards here."""
    user = request.user
    manager = access.can_manage_feedback(user)
    form = forms_feedback.BoardForm(request.POST or None, organizations=_customers(user) if manager else [])
    if request.method == "POST":
        me = _viewer(request)
        access.require(manager, "Only product staff, admins and community managers create boards")
        if form.is_valid():
            data = form.cleaned_data
            org = access.organization_for_view(me, data["organization"]) if data["organization"] else None
            try:
                board = services.board_create(
                    name=data["name"],
                    visibility=data["visibility"],
                    description=data["description"],
                    organization=org,
                    creator=access.viewer_member(me),
                    actor=me,
                )
            except ApplicationError as err:
                forms.add_service_errors(form, err)
            else:
                messages.success(request, f"Board “{board.name}” created.")
                return redirect("feedback:board_detail", slug=board.slug)
    return render(
        request,
        "web/feedback/board_list.html",
        {"boards": selectors.board_list(viewer=user), "form": form if manager else None, "can_manage": manager},
    )


@require_http_methods(["GET", "POST"])
def board_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """A board's ideas, sorted top/new/trending, searched, paginated; the form to submit one."""
    user = request.user
    board = _readable(request, lambda: access.board_for_view(user, slug))
    idea_form = forms_feedback.IdeaForm(request.POST or None)
    if request.method == "POST":
        me = _viewer(request)
        if idea_form.is_valid():
            try:
                idea = services.idea_create(
                    board=board,
                    author=_member(me),
                    title=idea_form.cleaned_data["title"],
                    description=idea_form.cleaned_data["description"],
                )
            except ApplicationError as err:
                forms.add_service_errors(idea_form, err)
            else:
                messages.success(request, "Thank you: your idea is on the board.")
                return _to_idea(idea)
    filters = forms_feedback.IdeaFilterForm(request.GET or None)
    data: dict[str, Any] = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    sort = data.get("sort") or "top"
    ideas = selectors.idea_list(
        viewer=user, board=board, sort=sort, q=data.get("q") or "", status=data.get("status") or ""
    )
    page = _page(request, ideas, IDEAS_PER_PAGE)
    me_member = _viewer_member(request)
    keep = request.GET.copy()
    keep.pop("page", None)
    keep.pop("sort", None)
    return render(
        request,
        "web/feedback/board_detail.html",
        {
            "board": board,
            "page_obj": page,
            "filters": filters,
            "sort": sort,
            "keep": keep.urlencode(),
            "filtered": bool(data.get("q") or data.get("status")),
            "voted": selectors.voted_ids(member=me_member, idea_ids=[i.pk for i in page.object_list]),
            "idea_form": idea_form,
            "vote_form": forms_feedback.VoteForm(),
            "statuses": IdeaStatus,
        },
    )


# --- the idea page --------------------------------------------------------------------------


def idea_detail(request: HttpRequest, idea_id: int) -> HttpResponse:
    user = request.user
    idea = _readable(request, lambda: access.idea_for_view(user, idea_id))
    me = _viewer_member(request)
    manager = access.can_manage_feedback(user)
    merge_q = request.GET.get("merge_q", "").strip()
    sources = selectors.idea_sources(idea=idea, viewer=user)
    outside = selectors.outside_origins(sources)
    return render(
        request,
        "web/feedback/idea_detail.html",
        {
            "idea": idea,
            "board": idea.board,
            # Sanitised by the Markdown renderer (nh3), as posts are.
            "description_html": mark_safe(render_markdown(idea.description)) if idea.description else "",  # noqa: S308
            "vote": selectors.vote_of(idea=idea, member=me),
            "following": selectors.is_following(idea=idea, member=me),
            "comments": selectors.idea_comments(idea=idea),
            "history": selectors.status_history(idea=idea),
            # Each link with the outside post it records (None for a post in a space).
            "sources": [(src, outside.get(src.pk)) for src in sources],
            "merged": selectors.merged_ideas(viewer=user, idea=idea),
            "vote_form": forms_feedback.VoteForm(),
            "comment_form": forms_feedback.CommentForm(),
            "can_manage": manager,
            "status_form": forms_feedback.StatusForm(initial={"status": idea.status}) if manager else None,
            "merge_form": forms_feedback.MergeForm() if manager else None,
            "merge_q": merge_q,
            "merge_candidates": list(selectors.merge_targets(viewer=user, idea=idea, q=merge_q)[:10])
            if manager and idea.merged_into_id is None
            else [],
        },
    )


def _act(request: HttpRequest, idea: Idea, action: Any, success: str) -> HttpResponse:
    try:
        action()
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, success)
    return _to_idea(idea)


@require_POST
def idea_vote(request: HttpRequest, idea_id: int) -> HttpResponse:
    me = _viewer(request)
    idea = access.idea_for_view(me, idea_id)
    form = forms_feedback.VoteForm(request.POST)
    importance = form.cleaned_data["importance"] if form.is_valid() else None
    try:
        services.vote_cast(idea=idea, member=_member(me), importance=importance)
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"You voted for “{idea.title}”. You will hear when its status changes.")
    # Back to the board the vote was cast from, if `next` stays on this site ("/\\evil.example"
    # is another site to a browser, so the check is Django's, not a prefix test).
    return redirect(_safe_next(request, reverse("feedback:idea_detail", args=[idea.pk])))


@require_POST
def idea_unvote(request: HttpRequest, idea_id: int) -> HttpResponse:
    me = _viewer(request)
    idea = access.idea_for_view(me, idea_id)
    return _act(
        request, idea, lambda: services.vote_withdraw(idea=idea, member=_member(me)), "Your vote was taken back."
    )


@require_POST
def idea_follow(request: HttpRequest, idea_id: int) -> HttpResponse:
    me = _viewer(request)
    idea = access.idea_for_view(me, idea_id)
    on = request.POST.get("on") == "1"
    return _act(
        request,
        idea,
        lambda: services.follow_set(idea=idea, member=_member(me), on=on),
        "You follow this idea." if on else "You no longer follow this idea.",
    )


@require_POST
def idea_comment(request: HttpRequest, idea_id: int) -> HttpResponse:
    me = _viewer(request)
    idea = access.idea_for_view(me, idea_id)
    form = forms_feedback.CommentForm(request.POST)
    body = form.cleaned_data["body"] if form.is_valid() else ""
    return _act(
        request, idea, lambda: services.comment_add(idea=idea, author=_member(me), body=body), "Comment posted."
    )


@require_POST
def idea_status(request: HttpRequest, idea_id: int) -> HttpResponse:
    me = _viewer(request)
    idea = access.idea_for_change(me, idea_id)
    form = forms_feedback.StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the statuses.")
        return _to_idea(idea)
    try:
        change = services.status_change(
            idea=idea, to_status=form.cleaned_data["status"], note=form.cleaned_data["note"], by=me
        )
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        loop = change.loop
        told = [f"{loop.get('notified', 0)} people notified"]
        if loop.get("replies"):
            told.append(f"a reply posted in {len(loop['replies'])} conversation(s)")
        if loop.get("announcements"):
            told.append(f"{len(loop['announcements'])} group or account space(s) told")
        messages.success(request, f"Status changed to {change.get_to_status_display()}: {', '.join(told)}.")
        for skipped in loop.get("skipped", []):
            messages.warning(request, f"Not posted: {skipped}")
    return _to_idea(idea)


@require_POST
def idea_merge(request: HttpRequest, idea_id: int) -> HttpResponse:
    me = _viewer(request)
    idea = access.idea_for_change(me, idea_id)
    form = forms_feedback.MergeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the number of the idea to merge this one into.")
        return _to_idea(idea)
    try:
        target = access.idea_for_view(me, form.cleaned_data["target"])
        target = services.idea_merge(source=idea, target=target, by=me)
    except ApplicationError as err:
        messages.error(request, _say(err))
        return _to_idea(idea)
    messages.success(request, f"Merged “{idea.title}” into this idea: votes and followers carried over.")
    return _to_idea(target)


# --- a post becomes an idea -----------------------------------------------------------------


def _idea_from(
    request: HttpRequest,
    me: User,
    *,
    text: str,
    title: str,
    link: Callable[[Idea], object],
    create: Callable[[Board, str, str], Idea],
    what: str,
    author_name: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The one-step page shared by posts and outside posts: make a new idea on a board (title
    and a quote filled in) or link to an existing idea (search, pick, done). `link` and
    `create` call the services; `what` names the thing in messages ("post", "review")."""
    boards = list(selectors.board_list(viewer=me))
    board_choices = [(b.slug, f"{b.name} ({b.get_visibility_display().split(':')[0]})") for b in boards]
    first_line = " ".join((title or text).split())[:120]
    action = request.POST.get("action")
    create_form = forms_feedback.FromPostForm(
        request.POST if action == "create" else None,
        boards=board_choices,
        initial={"title": first_line, "description": f"> {text[:1500]}" if text else ""},
    )
    link_form = forms_feedback.LinkPostForm(request.POST if action == "link" else None)
    if request.method == "POST":
        try:
            if action == "link" and link_form.is_valid():
                idea = access.idea_for_view(me, link_form.cleaned_data["idea"])
                link(idea)
                messages.success(request, f"The {what} is linked to “{idea.title}”; {author_name} is credited.")
                return _to_idea(idea)
            if action == "create" and create_form.is_valid():
                data = create_form.cleaned_data
                board = access.board_for_view(me, data["board"])
                idea = create(board, data["title"], data["description"])
                messages.success(request, f"The {what} is now an idea; {author_name} is credited.")
                return _to_idea(idea)
        except ApplicationError as err:
            forms.add_service_errors(link_form if action == "link" else create_form, err)
    q = request.GET.get("q", "").strip()
    return render(
        request,
        "web/feedback/from_post.html",
        {
            **context,
            "create_form": create_form,
            "link_form": link_form,
            "boards": boards,
            "q": q,
            "candidates": list(selectors.idea_list(viewer=me, q=q or first_line[:40])[:10]) if boards else [],
            "recent": list(selectors.idea_list(viewer=me, sort="new")[:10]) if not q else [],
        },
    )


@require_http_methods(["GET", "POST"])
def from_post(request: HttpRequest, post_id: int) -> HttpResponse:
    """Turn a post into a new idea, or link it to an existing one: one form, one step."""
    me = _viewer(request)
    post = access.post_for_view(me, post_id)
    return _idea_from(
        request,
        me,
        text=post.text or post.body,
        title="",
        link=lambda idea: services.idea_link_post(idea=idea, post=post, by=_member(me)),
        create=lambda board, title, description: services.idea_from_post(
            post=post, board=board, by=_member(me), title=title, description=description
        ),
        what="post",
        author_name=post.author.name,
        context={"post": post, "post_url": post_url(post), "origin": "web/feedback/_origin_post.html"},
    )


@require_http_methods(["GET", "POST"])
def from_outside_post(request: HttpRequest, outside_post_id: int) -> HttpResponse:
    """Turn a post imported from an outside conduit (a review, a blog post, a chat message)
    into a new idea, or link it to an existing one (staff only, as listening is)."""
    me = _viewer(request)
    outside = access.outside_post_for_view(me, outside_post_id)
    activity = listening_selectors.post_activity(outside)
    return _idea_from(
        request,
        me,
        text=outside.text,
        title=outside.title if not outside.title.lower().startswith("re:") else "",
        link=lambda idea: services.idea_link_activity(idea=idea, activity=activity, by=_member(me)),
        create=lambda board, title, description: services.idea_from_activity(
            activity=activity, board=board, by=_member(me), title=title, description=description
        ),
        what=outside.get_kind_display().lower(),
        author_name=outside.author.name,
        context={
            "outside": outside,
            "linked": selectors.ideas_for_outside_posts(viewer=me, post_ids=[outside.pk]).get(outside.pk, []),
            "origin": "web/feedback/_origin_outside.html",
        },
    )


# --- roadmap, demand, changelog -------------------------------------------------------------


def roadmap(request: HttpRequest) -> HttpResponse:
    user = request.user
    slug = request.GET.get("board", "")
    board = access.board_for_view(user, slug) if slug else None
    return render(
        request,
        "web/feedback/roadmap.html",
        {
            "columns": selectors.roadmap(viewer=user, board=board),
            "board": board,
            "boards": selectors.board_list(viewer=user),
        },
    )


def demand(request: HttpRequest) -> HttpResponse:
    """Ideas ranked by the weight of their voters' organisations, with filters (staff only)."""
    me = access.require_demand(request.user)
    form = forms_feedback.DemandFilterForm(
        request.GET or None,
        organizations=_customers(me),
        segments=selectors.segments(),
        groups=selectors.group_spaces(viewer=me),
        accounts=selectors.account_choices(viewer=me),
        boards=[(b.pk, b.name) for b in selectors.board_list(viewer=me)],
    )
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = selectors.DemandFilters(
        role=data.get("role") or "",
        organization_id=data.get("organization"),
        segment=data.get("segment") or "",
        group_space_id=data.get("group"),
        account_id=data.get("account"),
        board_id=data.get("board"),
        status=data.get("status") or "",
    )
    rows = selectors.demand(viewer=me, filters=filters)
    return render(
        request,
        "web/feedback/demand.html",
        {"form": form, "rows": rows, "filtered": any(v for v in data.values())},
    )


def changelog(request: HttpRequest) -> HttpResponse:
    """“You asked, we shipped”: shipped ideas on the boards the viewer may read."""
    user = request.user
    page = _page(request, selectors.changelog(viewer=user), CHANGELOG_PER_PAGE)
    return render(request, "web/feedback/changelog.html", {"page_obj": page})


def changelog_feed(request: HttpRequest) -> HttpResponse:
    """The changelog as RSS 2.0: only public boards' shipped ideas, whoever asks."""
    base = settings.CONVENOR_BASE_URL
    feed = Rss201rev2Feed(
        title=f"{settings.SITE_NAME}: you asked, we shipped",
        link=f"{base}{reverse('feedback:changelog')}",
        description="Ideas from the community that have shipped.",
        language="en",
        feed_url=f"{base}{reverse('feedback:changelog_feed')}",
    )
    for idea in selectors.changelog(public_only=True)[:FEED_ITEMS]:
        link = f"{base}{reverse('feedback:idea_detail', args=[idea.pk])}"
        note = idea.changelog_note or "Shipped."
        feed.add_item(
            title=idea.title,
            link=link,
            unique_id=link,
            description=f"{note}\n\n{idea.vote_count} votes on {idea.board.name}.",
            pubdate=idea.shipped_at,
            categories=[idea.board.name],
        )
    response = HttpResponse(content_type="application/rss+xml; charset=utf-8")
    feed.write(response, "utf-8")
    return response


def board_visibility_label(board: Board) -> str:
    return "Public" if board.visibility == BoardVisibility.PUBLIC else board.get_visibility_display().split(":")[0]
