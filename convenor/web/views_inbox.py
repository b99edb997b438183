"""Pages that gather across spaces: search, notifications and their settings, one-click
unsubscribe, and the staff queues."""

from __future__ import annotations

import copy
from typing import Any

from django.contrib import messages
from django.core.paginator import Page
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import urlencode
from django.template.loader import get_template
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from convenor.core import access, notify
from convenor.core.errors import ApplicationError, not_found
from convenor.spaces import selectors
from convenor.spaces.search import search_posts
from convenor.web import calendar_links, forms, forms_spaces, pagecache, search_html
from convenor.web import context as context_processors
from convenor.web.csrf import get_token
from convenor.web.post_html import CSRF_SLOT
from convenor.web.views import _page, _viewer

RESULTS_PER_PAGE = 20
NOTIFICATIONS_PER_PAGE = 30
QUEUE_PER_PAGE = 30
QUEUES = [
    ("unanswered", "Unanswered", "Threads nobody has replied to yet, oldest first."),
    (
        "needs_staff",
        "Needs staff",
        "Flagged for staff, or questions without an answer, that no employee has replied to.",
    ),
    ("customer_answers", "Customers answering customers", "The community helping itself: newest first."),
]


# --- search --------------------------------------------------------------------------------


def search(request: HttpRequest) -> HttpResponse:
    """Search over the spaces the viewer may read: public ones only for anonymous visitors."""
    return _search(request)


def _search(request: HttpRequest, *, share: bool = True) -> HttpResponse:
    """The search page; with `share`, in the frame kept for every search alike (search_html.py)
    when the reader has no message waiting."""
    me = request.user
    # One query for the space menu and for the search itself (which keys its cache on versions).
    readable = access.visible_space_rows(me, ("pk", "name", "version"), "name")
    spaces = [(pk, name) for pk, name, _ in readable]
    form = forms_spaces.SearchForm(request.GET or None, spaces=spaces)
    q, space_id, author_id, page = "", None, None, 1
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        q, space_id, author_id, page = data["q"].strip(), data["space"], data["author"], data["page"] or 1
    result = search_posts(
        viewer=me,
        q=q,
        space_id=space_id,
        author_id=author_id,
        page=page,
        page_size=RESULTS_PER_PAGE,
        readable=sorted((pk, version) for pk, _, version in readable),
    )
    author_name = ""
    if author_id is not None:
        # The name comes from a hit when there is one: the author of a post the viewer may
        # read is no secret, even when their profile is not listed.
        author_name = next((h.author_name for h in result.hits), "")
        if not author_name:
            member = access.visible_members(me).filter(pk=author_id).first()
            author_name = member.name if member is not None else "this person"
    invalid = form.is_bound and not form.is_valid()
    body = search_html.render_body(
        result,
        q=q,
        query=request.GET,
        space_id=space_id,
        author_id=author_id,
        author_name=author_name,
        invalid=invalid,
    )
    space_select = search_html.render_space_select(form["space"])
    context = {"form": form, "q": q, "author_id": author_id, "space_select": space_select}
    if not share or request.method not in ("GET", "HEAD") or len(messages.get_messages(request)) != 0:
        return render(request, "web/spaces/search.html", {**context, "body_html": body})
    logged_in = access.is_authenticated(me)
    key = pagecache.key(
        "search-frame",
        logged_in,
        (access.is_staff(me), access.can_merge(me), bool(getattr(me, "is_staff", False))),
        bool(q),
        author_id,
        space_select,
    )
    frame: list[str] | None = pagecache.kept_get(key)
    if frame is None:
        frame = _search_frame(request, context)
        pagecache.kept_set(key, frame, pagecache.TTL)
    values: dict[str, str] = {
        search_html.SLOT_Q: escape(q),
        search_html.SLOT_BODY: body,
        search_html.SLOT_NAV_Q: escape(request.GET.get("q", "")),
        search_html.SLOT_NEXT_ENCODED: escape(urlencode(request.get_full_path())),
    }
    if logged_in:
        member = access.viewer_member(me)
        token = escape(get_token(request))
        values[search_html.SLOT_USERNAV] = context_processors.usernav(
            section="search",
            unread=context_processors.unread_count(me),
            member_id=member.pk if member is not None else None,
            name=context_processors.viewer_name(me, member.name if member is not None else None),
            csrf_token=CSRF_SLOT,
        ).replace(CSRF_SLOT, token)
        values[CSRF_SLOT] = token
    return HttpResponse("".join(values.get(piece, piece) for piece in frame))


def _search_frame(request: HttpRequest, context: dict[str, Any]) -> list[str]:
    """The search page rendered with slots for the words, the results and the reader's own
    things, cut at the slots: kept text and slot names in turn."""
    frame_request = copy.copy(request)
    # The top bar's search box shows the words (request.GET), the login link this address.
    words = QueryDict(mutable=True)
    words["q"] = search_html.SLOT_NAV_Q
    frame_request.GET = words  # type: ignore[assignment]  # a QueryDict all the same
    frame_request.get_full_path = lambda force_append_slash=False: search_html.SLOT_NEXT  # type: ignore[method-assign]  # the slot
    html = get_template("web/spaces/search.html").render(
        {
            **context,
            "q": search_html.SLOT_Q if context["q"] else "",
            "body_html": mark_safe(search_html.SLOT_BODY),  # noqa: S308  # a constant
            "usernav_slot": mark_safe(search_html.SLOT_USERNAV),  # noqa: S308  # a constant
            "csrf_token": CSRF_SLOT,
        },
        frame_request,
    )
    return search_html.SLOTS.split(html)


# --- notifications -------------------------------------------------------------------------


def notifications(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    page = _page(request, selectors.notifications_visible(user=me), NOTIFICATIONS_PER_PAGE)
    unread = sum(1 for n in page.object_list if n.read_at is None)
    return render(request, "web/spaces/notifications.html", {"page_obj": page, "unread_on_page": unread})


def notification_open(request: HttpRequest, note_id: int) -> HttpResponse:
    """Mark one notification read and go where it points (only ever within this site)."""
    me = _viewer(request)
    note = selectors.notifications_visible(user=me).filter(pk=note_id).first()
    if note is None:
        raise not_found("No such notification")
    notify.mark_read(me, [note.pk])
    url = note.url
    if not (url.startswith("/") and url_has_allowed_host_and_scheme(url, allowed_hosts=set())):
        url = reverse("web:notifications")
    return HttpResponseRedirect(url)


@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    n = notify.mark_read(me)
    messages.success(request, f"Marked {n} notification{'s' if n != 1 else ''} as read.")
    return redirect("web:notifications")


@require_http_methods(["GET", "POST"])
def notification_settings(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    prefs = notify.prefs_for(me)
    form = forms_spaces.NotificationPrefsForm(
        request.POST or None, initial={"email_each": prefs.email_each, "digest": prefs.digest}
    )
    if request.method == "POST" and form.is_valid():
        try:
            notify.prefs_set(me, email_each=form.cleaned_data["email_each"], digest=form.cleaned_data["digest"])
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            messages.success(request, "Your notification settings were saved.")
            return redirect("web:notification_settings")
    return render(
        request,
        "web/spaces/notification_settings.html",
        {"form": form, "events_feed_url": calendar_links.member_feed_url(me)},
    )


# Mail providers send the RFC 8058 one-click POST ("List-Unsubscribe=One-Click") without a
# CSRF token or a session. The signed token is the authority, and the only thing a forged
# request could do is stop emails to the token's owner, so CSRF protection is waived here.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks for a click (link scanners must not unsubscribe anyone); POST unsubscribes."""
    if request.method == "GET":
        return render(request, "web/spaces/unsubscribe.html", {"token": token, "done": False})
    user = notify.unsubscribe(token)
    if user is None:
        return render(
            request,
            "web/error.html",
            {"status": 400, "message": "This unsubscribe link is not valid. Log in to change your email settings."},
            status=400,
        )
    return render(request, "web/spaces/unsubscribe.html", {"done": True})


# --- staff queues --------------------------------------------------------------------------


def queues(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    access.require(access.is_staff(me), "Only staff see the queues")
    tab = request.GET.get("tab", "unanswered")
    if tab not in {key for key, _, _ in QUEUES}:
        tab = "unanswered"
    unanswered = selectors.queue_unanswered(viewer=me)
    needs_staff = selectors.queue_needs_staff(viewer=me)
    customer_answers = selectors.queue_customer_answers(viewer=me)
    counts = {
        "unanswered": unanswered.count(),
        "needs_staff": needs_staff.count(),
        "customer_answers": customer_answers.count(),
    }
    page: Page[Any] = (
        _page(request, customer_answers, QUEUE_PER_PAGE)
        if tab == "customer_answers"
        else _page(request, unanswered if tab == "unanswered" else needs_staff, QUEUE_PER_PAGE)
    )
    tabs = [(key, label, counts[key]) for key, label, _ in QUEUES]
    about = next(text for key, _, text in QUEUES if key == tab)
    return render(request, "web/spaces/queues.html", {"tab": tab, "tabs": tabs, "about": about, "page_obj": page})
