"""Pages of the charter: a held post's actions, the moderation queue, the leakage report."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from convenor.charter import selectors
from convenor.core import access
from convenor.core.errors import ApplicationError
from convenor.spaces import services
from convenor.spaces.models import Decision, Space
from convenor.web.views import _page, _safe_next, _viewer
from convenor.web.views_spaces import _member, _say, post_url


def _target(request: HttpRequest) -> Space | None:
    raw = request.POST.get("space", "")
    if not raw.isdigit():
        return None
    # Any space the viewer can see; the service checks it is commercial and the author may post there.
    return access.space_for_view(request.user, int(raw))


@require_POST
def post_move(request: HttpRequest, post_id: int) -> HttpResponse:
    """The author moves their held post to a commercial space of their choice, in one step."""
    me = _viewer(request)
    post = access.post_for_view(me, post_id)
    member = _member(me)
    target = _target(request)
    if target is None:
        messages.error(request, "Choose the commercial space to move it to.")
        return HttpResponseRedirect(post_url(post))
    try:
        thread = services.post_move_by_author(post=post, target=target, author=member)
    except ApplicationError as err:
        messages.error(request, _say(err))
        return HttpResponseRedirect(post_url(post))
    messages.success(request, f"Moved to {target.name} and published there.")
    return redirect("web:thread_detail", thread_id=thread.pk)


@require_POST
def post_review(request: HttpRequest, post_id: int) -> HttpResponse:
    me = _viewer(request)
    post = access.post_for_view(me, post_id)
    try:
        services.post_request_review(post=post, member=_member(me))
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, "A moderator will review your post.")
    return HttpResponseRedirect(post_url(post))


def moderation_queue(request: HttpRequest) -> HttpResponse:
    """Held posts in the spaces the viewer moderates, with approve, reject and move."""
    me = _viewer(request)
    spaces = selectors.moderated_spaces(viewer=me)
    access.require(spaces.exists(), "Only moderators of community spaces have a moderation queue")
    space = None
    if request.GET.get("space", "").isdigit():
        space = spaces.filter(pk=int(request.GET["space"])).first()
    page = _page(request, selectors.moderation_queue(viewer=me, space=space), 25)
    return render(
        request,
        "web/charter/queue.html",
        {
            "page_obj": page,
            "spaces": spaces.order_by("name"),
            "space": space,
            "rate": selectors.false_positive_rate(spaces=spaces),
            "targets": selectors.move_targets(viewer=me),
            "section": "moderation",
        },
    )


@require_POST
def moderation_decide(request: HttpRequest, post_id: int) -> HttpResponse:
    me = _viewer(request)
    post = access.post_for_moderation(me, post_id)
    decision = request.POST.get("decision", "")
    target = _target(request) if decision == Decision.MOVE else None
    try:
        services.post_moderate(
            post=post, moderator=_member(me), decision=decision, reason=request.POST.get("reason", ""), target=target
        )
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"{Decision(decision).label}: {post.thread.title}.")
    return HttpResponseRedirect(_safe_next(request, reverse("web:moderation_queue")))


@require_POST
def space_threshold(request: HttpRequest, slug: str) -> HttpResponse:
    me = _viewer(request)
    space = access.space_by_slug_for_view(me, slug)
    access.require(access.can_moderate(me, space), "Only moderators may change the charter threshold")
    try:
        services.space_set_threshold(space=space, threshold=float(request.POST.get("charter_threshold", "")), actor=me)
    except ValueError:
        messages.error(request, "The threshold is a number between 0.05 and 0.99.")
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"Posts scoring over {space.charter_threshold:.2f} will be held.")
    return HttpResponseRedirect(reverse("web:space_detail", args=[space.slug]) + "#charter")


def leakage_report(request: HttpRequest) -> HttpResponse:
    """Staff: per community space and month, held, approved and rejected posts, the measured
    false-positive rate, and whose posts are held most."""
    me = _viewer(request)
    access.require(access.can_see_leakage_report(me), "The commercial-leakage report is for staff")
    return render(
        request,
        "web/charter/report.html",
        {
            "reports": selectors.leakage_report(viewer=me),
            "rate": selectors.false_positive_rate(),
            "section": "moderation",
        },
    )
