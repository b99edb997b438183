"""Pages for hot groups: suggestions by interest (staff), a suggestion with a small map of
its people and their ties and the form that convenes it, the groups, a group's page
(invitations, leaving, the facilitator's add and remove) and its health with charts.

Thin like the rest of the web app: ids go through the permission gate (core/access.py),
reads through convenor.hotgroups.selectors, writes through convenor.hotgroups.services.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from convenor.core import access
from convenor.core.errors import ApplicationError, not_found
from convenor.hotgroups import charts, selectors, services
from convenor.hotgroups import suggest as suggesting
from convenor.hotgroups.models import Group, SuggestionStatus
from convenor.hotgroups.profiles import current_model, profile_refresh
from convenor.hotgroups.wom import spread_measure
from convenor.people.models import Member, Role
from convenor.web.views import _page, _viewer
from convenor.web.views_spaces import _find_member, _say, _viewer_member

SUGGESTIONS_PER_PAGE = 20
GROUPS_PER_PAGE = 30


class SuggestForm(forms.Form):
    interest = forms.CharField(
        required=False, max_length=200, help_text="In words, or pick a topic below; empty: across every topic."
    )
    size = forms.IntegerField(min_value=suggesting.MIN_SIZE, max_value=suggesting.MAX_SIZE, initial=10)
    limit = forms.IntegerField(min_value=1, max_value=suggesting.MAX_LIMIT, initial=3, label="How many groups")


class ConveneForm(forms.Form):
    name = forms.CharField(max_length=120)
    facilitator = forms.TypedChoiceField(coerce=int, help_text="The employee who hosts and moderates the group.")
    first_at = forms.DateTimeField(
        label="First gathering",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    recurrence = forms.ChoiceField(choices=[("monthly", "Monthly"), ("weekly", "Weekly")], label="Cadence")
    interval = forms.IntegerField(min_value=1, max_value=12, initial=1, label="Every (weeks or months)")
    count = forms.IntegerField(min_value=2, max_value=52, initial=6, label="Gatherings")
    duration_minutes = forms.IntegerField(min_value=15, max_value=480, initial=90, label="Minutes each")
    place = forms.CharField(max_length=300, required=False)


def _staff_only(request: HttpRequest) -> Any:
    """The staff viewer; anyone else gets 404, as for a suggestion itself, the map and listening."""
    user = _viewer(request)
    if not access.can_see_suggestions(user):
        raise not_found()
    return user


def _map_ready() -> bool:
    from convenor.graph import selectors as graph

    try:
        return graph.map_built_at() is not None
    except NotImplementedError:
        return False


# --- suggestions ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def suggestions(request: HttpRequest) -> HttpResponse:
    """Topics with their holders, the form that proposes groups, and recent suggestions."""
    user = _staff_only(request)
    me = _viewer_member(request)
    form = SuggestForm(request.POST or None, initial={"interest": request.GET.get("interest", "")})
    if request.method == "POST":
        access.require(access.can_convene(user), "Only admins and community managers propose groups")
        if form.is_valid():
            try:
                done = services.suggestions_create(
                    interest=form.cleaned_data["interest"] or "",
                    size=form.cleaned_data["size"],
                    limit=form.cleaned_data["limit"],
                    by=me,
                )
            except ApplicationError as err:
                form.add_error(None, _say(err))
            else:
                messages.success(request, f"{len(done.suggestions)} group(s) proposed.")
                if len(done.suggestions) == 1:
                    return redirect("hotgroups:suggestion_detail", suggestion_id=done.suggestions[0].pk)
                return redirect("hotgroups:suggestions")
    topic_id = request.GET.get("topic")
    status = request.GET.get("status", SuggestionStatus.OPEN)
    qs = selectors.suggestion_list(
        topic_id=int(topic_id) if topic_id and topic_id.isdigit() else None,
        status=status if status in SuggestionStatus.values else "",
    )
    return render(
        request,
        "web/hotgroups/suggestions.html",
        {
            "form": form,
            "topics": list(selectors.topics()),
            "model": current_model(),
            "map_ready": _map_ready(),
            "page_obj": _page(request, qs, SUGGESTIONS_PER_PAGE),
            "status": status,
            "statuses": SuggestionStatus.choices,
            "can_convene": access.can_convene(user),
        },
    )


@require_POST
def profiles_refresh(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    access.require(access.can_convene(user), "Only admins and community managers refresh interest profiles")
    try:
        run = profile_refresh(refit=request.POST.get("refit") == "1")
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(
            request,
            f"Interest profiles are up to date: {run.topics} topics, {run.profiles:,} people, "
            f"{run.posts_projected:,} new posts read in {run.seconds:.1f}s.",
        )
    return redirect("hotgroups:suggestions")


def _employees() -> list[tuple[int, str]]:
    return list(Member.objects.filter(role=Role.EMPLOYEE, observed=False).order_by("name").values_list("pk", "name"))


@require_http_methods(["GET", "POST"])
def suggestion_detail(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    """A suggestion: why these people, a map of their ties, and the form that convenes it."""
    user = _staff_only(request)
    sug = access.suggestion_for_view(user, suggestion_id)
    people = selectors.suggestion_people(sug)
    employees = _employees()
    default_fac = next((p.member_id for p in people if p.role == Role.EMPLOYEE), employees[0][0] if employees else None)
    start = (timezone.now() + timedelta(days=14)).replace(hour=17, minute=0, second=0, microsecond=0)
    form = ConveneForm(
        request.POST or None,
        initial={
            "name": f"{sug.topic.interest_name or sug.topic.label.split(',')[0].strip().capitalize()} circle",
            "facilitator": default_fac,
            "first_at": start.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    form.fields["facilitator"].choices = employees  # type: ignore[attr-defined]  # a ChoiceField
    if request.method == "POST":
        access.require(access.can_convene(user), "Only admins and community managers convene groups")
        if form.is_valid():
            data = form.cleaned_data
            first = data["first_at"]  # aware, in the server's time zone (USE_TZ)
            try:
                group = services.group_convene(
                    suggestion=sug,
                    name=data["name"],
                    facilitator=Member.objects.get(pk=data["facilitator"]),
                    first_at=first,
                    recurrence=data["recurrence"],
                    interval=data["interval"],
                    count=data["count"],
                    duration_minutes=data["duration_minutes"],
                    place=data["place"] or "",
                    by=_viewer_member(request),
                    actor=user,
                )
            except ApplicationError as err:
                form.add_error(None, err.message)
                for field, msgs in err.fields.items():
                    for m in msgs:
                        if field in form.fields:
                            form.add_error(field, m)
                        else:
                            form.add_error(None, m)
            else:
                messages.success(request, f"“{group.name}” is convened: invitations are on their way.")
                return redirect("hotgroups:group_detail", group_id=group.pk)
    ties = selectors.suggestion_ties(sug)
    picture = charts.people_map(
        [(p.member_id, p.member.name, p.role, p.connector) for p in people],
        ties,
        title=f"The people of suggestion {sug.pk} and the ties they already have",
    )
    convened = Group.objects.filter(suggestion=sug).first()
    return render(
        request,
        "web/hotgroups/suggestion_detail.html",
        {
            "sug": sug,
            "people": people,
            "form": form,
            "picture": picture,
            "ties": len(ties),
            "pairs": len(people) * (len(people) - 1) // 2,
            "new_ties": len(people) * (len(people) - 1) // 2 - len(ties),
            "group": convened,
            "can_convene": access.can_convene(user),
            "role_colours": charts.legend(),
        },
    )


@require_POST
def suggestion_dismiss(request: HttpRequest, suggestion_id: int) -> HttpResponse:
    user = _staff_only(request)
    access.require(access.can_convene(user), "Only admins and community managers dismiss suggestions")
    sug = access.suggestion_for_view(user, suggestion_id)
    try:
        services.suggestion_dismiss(suggestion=sug, actor=user)
        messages.success(request, "Suggestion dismissed.")
    except ApplicationError as err:
        messages.error(request, _say(err))
    return redirect("hotgroups:suggestions")


# --- groups --------------------------------------------------------------------------------


def group_list(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    groups = selectors.group_list(access.visible_groups(user)).order_by("-created_at", "-id")
    return render(
        request,
        "web/hotgroups/group_list.html",
        {
            "page_obj": _page(request, groups, GROUPS_PER_PAGE),
            "can_see_suggestions": access.can_see_suggestions(user),
        },
    )


def group_detail(request: HttpRequest, group_id: int) -> HttpResponse:
    user = _viewer(request)
    group = access.group_for_view(user, group_id)
    me = _viewer_member(request)
    upcoming = selectors.group_health(group).upcoming
    return render(
        request,
        "web/hotgroups/group_detail.html",
        {
            "group": group,
            "people": selectors.group_people(group),
            "mine": selectors.membership_of(group, me),
            "can_facilitate": access.can_facilitate(user, group),
            "upcoming": upcoming,
        },
    )


def _act(request: HttpRequest, group_id: int, what: str) -> HttpResponse:
    user = _viewer(request)
    group = access.group_for_view(user, group_id)
    me = access.viewer_member(user)
    if me is None:
        messages.error(request, "Your account has no member profile")
        return redirect("hotgroups:group_detail", group_id=group.pk)
    try:
        if what == "leave":
            services.group_leave(group=group, member=me)
            messages.success(request, f"You left “{group.name}”.")
            return redirect("hotgroups:group_list")
        services.group_respond(group=group, member=me, accept=what == "accept")
        messages.success(request, "Welcome to the group." if what == "accept" else "You declined the invitation.")
    except ApplicationError as err:
        messages.error(request, _say(err))
    if what == "decline":
        return redirect("hotgroups:group_list")
    return redirect("hotgroups:group_detail", group_id=group.pk)


@require_POST
def group_accept(request: HttpRequest, group_id: int) -> HttpResponse:
    return _act(request, group_id, "accept")


@require_POST
def group_decline(request: HttpRequest, group_id: int) -> HttpResponse:
    return _act(request, group_id, "decline")


@require_POST
def group_leave(request: HttpRequest, group_id: int) -> HttpResponse:
    return _act(request, group_id, "leave")


@require_POST
def group_add(request: HttpRequest, group_id: int) -> HttpResponse:
    user = _viewer(request)
    group = access.group_for_change(user, group_id)
    who = request.POST.get("who", "")
    member = _find_member(user, who) if who.strip() else None
    if member is None:
        messages.error(request, f"No member found for “{who}”: give an email address or an @handle")
        return redirect("hotgroups:group_detail", group_id=group.pk)
    try:
        services.group_add(group=group, member=member, by=_viewer_member(request) or group.facilitator, actor=user)
        messages.success(request, f"{member.name} is invited.")
    except ApplicationError as err:
        messages.error(request, _say(err))
    return redirect("hotgroups:group_detail", group_id=group.pk)


@require_POST
def group_remove(request: HttpRequest, group_id: int, member_id: int) -> HttpResponse:
    user = _viewer(request)
    group = access.group_for_change(user, group_id)
    member = access.member_for_view(user, member_id)
    try:
        services.group_remove(group=group, member=member, actor=user)
        messages.success(request, f"{member.name} is no longer in the group.")
    except ApplicationError as err:
        messages.error(request, _say(err))
    return redirect("hotgroups:group_detail", group_id=group.pk)


def group_health(request: HttpRequest, group_id: int) -> HttpResponse:
    user = _viewer(request)
    group = access.group_for_view(user, group_id)
    health = selectors.group_health(group)
    labels = [g.event.starts_at.strftime("%d %b") for g in health.gatherings]
    attendance = charts.bars(
        labels,
        [
            ("Members", [g.members for g in health.gatherings], "#cbd5e1"),
            ("Registered", [g.confirmed for g in health.gatherings], "#93c5fd"),
            ("Attended", [g.attended for g in health.gatherings], "#2563eb"),
        ],
        title="Attendance at each gathering",
    )
    activity = charts.bars(
        [w.strftime("%d %b") for w, _ in health.weekly_posts],
        [("Posts", [n for _, n in health.weekly_posts], "#059669")],
        title="Posts in the group's space, week by week",
    )
    spread = charts.lifts(
        [s.event.starts_at.strftime("%d %b") for s in health.spreads],
        [(s.lift, s.ci_low, s.ci_high) for s in health.spreads],
        title="Word of mouth: lift in topic posts by the members' neighbours after each gathering",
    )
    return render(
        request,
        "web/hotgroups/group_health.html",
        {
            "group": group,
            "health": health,
            "attendance_chart": attendance,
            "activity_chart": activity,
            "spread_chart": spread,
            "can_facilitate": access.can_facilitate(user, group),
        },
    )


@require_POST
def group_measure(request: HttpRequest, group_id: int) -> HttpResponse:
    user = _viewer(request)
    group = access.group_for_change(user, group_id)
    rows = spread_measure(group=group)
    if rows:
        messages.success(request, f"Word of mouth measured after {len(rows)} gathering(s).")
    else:
        messages.info(
            request, "Nothing to measure yet: no gathering has taken place, or the map or profiles are missing."
        )
    return redirect("hotgroups:group_health", group_id=group.pk)
