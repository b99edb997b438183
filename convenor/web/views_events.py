"""Pages for events: the list, the event page, registering (with the frame-mismatch notice),
the organisers' form, dashboard and check-in, the attendees' survey and the fit report.

Thin like the rest of the web app: ids from the URL go through the permission gate
(core/access.py), reads through convenor.events.selectors, writes through
convenor.events.services. The pages live under /events/ (convenor/events/urls.py) because
emails and notifications already link to /events/<id>/.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from convenor.core import access
from convenor.core.errors import ApplicationError, ErrorCode, not_found
from convenor.core.models import User
from convenor.events import selectors, services
from convenor.events.models import Event, EventSeries, Frame, Intent, Registration, RegistrationState, Visibility
from convenor.people.models import Member, OrgKind
from convenor.spaces.models import Space
from convenor.web import forms, forms_events
from convenor.web.views import _page, _viewer
from convenor.web.views_spaces import _find_member, _member, _readable, _say, _viewer_member

EVENTS_PER_PAGE = 20
CHECKIN_LIMIT = 50


def _to_event(event: Event) -> HttpResponse:
    return redirect("events:event_detail", event_id=event.pk)


def _space_choices(user: User | Any) -> list[tuple[int, str]]:
    return list(access.visible_spaces(user).filter(archived_at__isnull=True).order_by("name").values_list("pk", "name"))


def _customer_choices(user: User | Any) -> list[tuple[int, str]]:
    return list(
        access.visible_organizations(user).filter(kind=OrgKind.CUSTOMER).order_by("name").values_list("pk", "name")
    )


# --- the list ------------------------------------------------------------------------------


def event_list(request: HttpRequest) -> HttpResponse:
    """Upcoming or past events the viewer may see, filtered by frame, space and organisation."""
    user = request.user
    logged_in = access.is_authenticated(user)
    form = forms_events.EventFilterForm(
        request.GET or None,
        spaces=_space_choices(user),
        organizations=_customer_choices(user) if logged_in else [],
    )
    data: dict[str, Any] = form.cleaned_data if form.is_bound and form.is_valid() else {}
    when = data.get("when") or "upcoming"
    events = selectors.event_list(
        viewer=user,
        when=when,
        frame=data.get("frame") or "",
        space_id=data.get("space"),
        organization_id=data.get("organization"),
        q=data.get("q") or "",
    )
    page = _page(request, events, EVENTS_PER_PAGE)
    filtered = any(data.get(k) for k in ("frame", "space", "organization", "q"))
    # The tabs keep the filters; only `when` and the page change.
    keep = request.GET.copy()
    keep.pop("page", None)
    keep.pop("when", None)
    return render(
        request,
        "web/events/event_list.html",
        {
            "form": form,
            "when": when,
            "page_obj": page,
            "filtered": filtered,
            "keep": keep.urlencode(),
            "can_create": _may_create_some(user),
            "is_staff_viewer": access.is_staff(user),
        },
    )


def _may_create_some(user: User | Any) -> bool:
    return access.can_create_event(user, frame=Frame.COMMERCIAL) or access.can_create_event(user, frame=Frame.COMMUNITY)


# --- the event page ------------------------------------------------------------------------


def _registration_context(event: Event, me: Member | None) -> dict[str, Any]:
    reg = selectors.registration_of(event=event, member=me)
    return {
        "registration": reg,
        "waitlist_place": selectors.waitlist_place(registration=reg) if reg is not None else None,
    }


def event_detail(request: HttpRequest, event_id: int) -> HttpResponse:
    user = request.user
    event = _readable(request, lambda: access.event_for_view(user, event_id))
    seats = selectors.event_seats(event=event)
    me = _viewer_member(request)
    organiser = access.is_authenticated(user) and access.can_change_event(user, event)
    now = timezone.now()
    context = {
        "event": event,
        "seats": seats,
        "seats_left": max(0, event.capacity - seats.confirmed) if event.capacity is not None else None,
        "hosts": selectors.event_hosts(event=event),
        "speakers": selectors.event_speakers(event=event),
        "frame_line": services.frame_line(event),
        "is_organiser": organiser,
        "open_for_registration": not event.is_cancelled and not event.is_held and now < event.closes_at,
        "is_over": now >= event.ends_at,
        "ics_url": reverse("events:event_ics", args=[event.pk]),
        "can_release": event.is_held and access.can_release_event(user),
        "invite_form": forms_events.InviteForm() if organiser else None,
        **_registration_context(event, me),
    }
    reg = context["registration"]
    context["can_survey"] = (
        reg is not None
        and reg.attended_at is not None
        and now >= event.ends_at
        and selectors.survey_of(registration=reg) is None
    )
    return render(request, "web/events/event_detail.html", context)


# --- registering ---------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def event_register(request: HttpRequest, event_id: int) -> HttpResponse:
    """Ask the intent; on a frame mismatch, show the plain notice and a "Register anyway" button."""
    me = _viewer(request)
    event = access.event_for_view(me, event_id)
    member = _member(me)
    existing = selectors.registration_of(event=event, member=member)
    if existing is not None:
        messages.info(request, "You are already registered for this event.")
        return redirect("events:event_registered", event_id=event.pk)
    form = forms_events.RegistrationForm(request.POST if request.method == "POST" else None)
    mismatch: services.FrameMismatch | None = None
    if request.method == "POST" and form.is_valid():
        try:
            services.registration_create(
                event=event,
                member=member,
                intent=form.cleaned_data["intent"],
                acknowledged=form.cleaned_data["acknowledged"],
            )
        except services.FrameMismatch as notice:
            mismatch = notice
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            return redirect("events:event_registered", event_id=event.pk)
    contact = (
        selectors.sales_contact()
        if mismatch is not None and event.frame == Frame.COMMUNITY and not mismatch.alternatives
        else None
    )
    return render(
        request,
        "web/events/register.html",
        {
            "event": event,
            "form": form,
            "frame_line": services.frame_line(event),
            "mismatch": mismatch,
            "contact": contact,
            "intent": form.cleaned_data.get("intent") if mismatch is not None else None,
        },
    )


def event_registered(request: HttpRequest, event_id: int) -> HttpResponse:
    """The confirmation: your seat or waitlist place, and the frame stated again."""
    me = _viewer(request)
    event = access.event_for_view(me, event_id)
    context = _registration_context(event, access.viewer_member(me))
    if context["registration"] is None:
        return redirect("events:event_register", event_id=event.pk)
    return render(
        request,
        "web/events/registered.html",
        {
            "event": event,
            "frame_line": services.frame_line(event),
            "ics_url": reverse("events:event_ics", args=[event.pk]),
            **context,
        },
    )


@require_POST
def registration_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    me = _viewer(request)
    event = access.event_for_view(me, event_id)
    reg = selectors.registration_of(event=event, member=access.viewer_member(me))
    if reg is None:
        messages.error(request, "You are not registered for this event.")
        return _to_event(event)
    try:
        services.registration_cancel(registration=reg, actor=me)
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"Your registration for “{event.title}” is cancelled.")
    return _to_event(event)


# --- creating and editing ------------------------------------------------------------------


def _people(form: forms_events.EventForm, me: User, name: str) -> list[Member]:
    """Members named in a field by email or @handle; unknown ones become field errors."""
    found: list[Member] = []
    for raw in form.people(name):
        member = _find_member(me, raw)
        if member is None:
            form.add_error(name, f"Nobody you can see has the email address or @handle {raw}")
        elif member not in found:
            found.append(member)
    return found


def _event_fields(form: forms_events.EventForm, me: User) -> dict[str, Any] | None:
    """The service's arguments from a valid form, or None when a name or id did not resolve."""
    data = form.cleaned_data
    owner: Member | None = None
    if data["frame"] == Frame.COMMERCIAL:
        raw = data["commercial_owner"].strip()
        owner = _find_member(me, raw) if raw else access.viewer_member(me)
        if owner is None:
            form.add_error("commercial_owner", f"Nobody you can see has the email address or @handle {raw}")
    org = None
    if data["organization"] is not None:
        org = access.visible_organizations(me).filter(pk=data["organization"]).first()
    hosts = _people(form, me, "hosts")
    speakers = _people(form, me, "speakers")
    if form.errors:
        return None
    fields = {
        "title": data["title"],
        "description": data["description"],
        "starts_at": data["starts_at"],
        "ends_at": data["ends_at"],
        "time_zone": data["time_zone"],
        "place": data["place"],
        "online_url": data["online_url"],
        "capacity": data["capacity"],
        "registration_closes_at": data["registration_closes_at"],
        "frame": data["frame"],
        "commercial_owner": owner,
        "visibility": data["visibility"],
        "organization": org,
        "hosts": hosts,
        "speakers": speakers,
    }
    fields.update({name: data[name] for name in forms_events.EventForm.BRIEF_NAMES})
    return fields


def _form_page(request: HttpRequest, form: forms_events.EventForm, event: Event | None) -> HttpResponse:
    return render(
        request,
        "web/events/event_form.html",
        {"form": form, "event": event, "brief_names": forms_events.EventForm.BRIEF_NAMES},
    )


@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest) -> HttpResponse:
    """For those who may create events (access.can_create_event): admins and community
    managers, sales (commercial events), a space's moderators (in their space)."""
    me = _viewer(request)
    preset: Space | None = None
    if request.GET.get("space"):
        preset = access.space_by_slug_for_view(me, request.GET["space"])
    may_create = _may_create_some(me) or (preset is not None and access.can_moderate(me, preset))
    access.require(may_create, "You may not create events")
    initial: dict[str, Any] = {"space": preset.pk if preset else None}
    if not access.can_create_event(me, frame=Frame.COMMUNITY, space=preset):
        initial["frame"] = Frame.COMMERCIAL
    form = forms_events.EventForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        spaces=_space_choices(me),
        organizations=_customer_choices(me),
    )
    if request.method == "POST" and form.is_valid():
        space = access.space_for_view(me, form.cleaned_data["space"]) if form.cleaned_data["space"] else None
        frame = form.cleaned_data["frame"]
        if not access.can_create_event(me, frame=frame, space=space):
            form.add_error("frame", f"You may not create {frame} events{' in this space' if space else ''}")
        fields = _event_fields(form, me) if not form.errors else None
        if fields is not None and form.cleaned_data.get("repeat"):
            try:
                series = services.series_create(
                    **form.repeat_args(fields["starts_at"]),
                    **fields,
                    space=space,
                    creator=access.viewer_member(me),
                    actor=me,
                )
            except ApplicationError as err:
                _series_errors(form, err)
            else:
                return _series_created(request, series)
        elif fields is not None:
            try:
                event = services.event_create(**fields, space=space, creator=access.viewer_member(me), actor=me)
            except ApplicationError as err:
                forms.add_service_errors(form, err)
            else:
                if event.is_held:
                    messages.warning(
                        request,
                        "The event is saved but held: its description reads as selling, and community events do "
                        "not sell. Reword it, or make it a commercial event with a brief.",
                    )
                else:
                    messages.success(request, f"“{event.title}” was created.")
                return _to_event(event)
    return _form_page(request, form, None)


# The series services' field names, as the forms call them.
_SERIES_FIELDS = {"horizon": "until", "recurrence": "repeat"}


def _series_errors(form: Any, err: ApplicationError) -> None:
    renamed = {_SERIES_FIELDS.get(k, k): v for k, v in err.fields.items()}
    forms.add_service_errors(form, ApplicationError(err.code, err.message, fields=renamed))


def _series_created(request: HttpRequest, series: EventSeries) -> HttpResponse:
    events = list(series.occurrences.all())
    held = sum(1 for e in events if e.is_held)
    if held:
        messages.warning(
            request,
            f"The series is saved, but its {held} occurrence{'s are' if held > 1 else ' is'} held: the description "
            "reads as selling, and community events do not sell.",
        )
    else:
        messages.success(request, f"The series “{series.title}” was created with {len(events)} occurrences.")
    return redirect("events:series_detail", series_id=series.pk)


def _local(value: Any, zone: str) -> Any:
    from zoneinfo import ZoneInfo

    return value.astimezone(ZoneInfo(zone)).replace(tzinfo=None) if value is not None else None


def _handle(member: Member) -> str:
    return f"@{member.handle}" if member.handle else (member.email or "")


@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, event_id: int) -> HttpResponse:
    me = _viewer(request)
    event = access.event_for_change(me, event_id)
    initial = {
        "title": event.title,
        "frame": event.frame,
        "description": event.description,
        "starts_at": _local(event.starts_at, event.time_zone),
        "ends_at": _local(event.ends_at, event.time_zone),
        "time_zone": event.time_zone,
        "place": event.place,
        "online_url": event.online_url,
        "capacity": event.capacity,
        "registration_closes_at": _local(event.registration_closes_at, event.time_zone),
        "space": event.space_id,
        "visibility": event.visibility if event.visibility != Visibility.GROUP else Visibility.MEMBERS,
        "organization": event.organization_id,
        "hosts": ", ".join(_handle(m) for m in selectors.event_hosts(event=event)),
        "speakers": ", ".join(_handle(m) for m in selectors.event_speakers(event=event)),
        "commercial_owner": _handle(event.commercial_owner) if event.commercial_owner else "",
        **{name: getattr(event, name) for name in forms_events.EventForm.BRIEF_NAMES},
    }
    form = forms_events.EventForm(
        request.POST if request.method == "POST" else None,
        initial=initial,
        spaces=_space_choices(me),
        organizations=_customer_choices(me),
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        if not access.can_create_event(me, frame=form.cleaned_data["frame"], space=event.space) and (
            form.cleaned_data["frame"] != event.frame
        ):
            form.add_error("frame", f"You may not make this a {form.cleaned_data['frame']} event")
        fields = _event_fields(form, me) if not form.errors else None
        if fields is not None:
            hosts, speakers = fields.pop("hosts"), fields.pop("speakers")
            if event.space_id is not None:
                # The space decides who sees it; these stay as the space set them.
                for name in ("visibility", "organization"):
                    fields.pop(name)
            try:
                services.event_update(event=event, hosts=hosts or None, speakers=speakers, actor=me, **fields)
            except ApplicationError as err:
                forms.add_service_errors(form, err)
            else:
                if event.is_held:
                    messages.warning(request, "Saved, but held: the description still reads as selling.")
                else:
                    messages.success(request, "Your changes were saved.")
                return _to_event(event)
    return _form_page(request, form, event)


@require_POST
def event_cancel(request: HttpRequest, event_id: int) -> HttpResponse:
    me = _viewer(request)
    event = access.event_for_change(me, event_id)
    try:
        services.event_cancel(event=event, actor=me, reason=request.POST.get("reason", ""))
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, "The event is cancelled; its registrants were told.")
    return _to_event(event)


# --- organisers: dashboard and check-in ----------------------------------------------------


def event_dashboard(request: HttpRequest, event_id: int) -> HttpResponse:
    me = _viewer(request)
    event = access.event_for_change(me, event_id)
    board = selectors.event_dashboard(event=event)
    intents = [(i.value, i.label, board.by_intent[i.value]) for i in Intent]
    return render(
        request,
        "web/events/dashboard.html",
        {
            "event": event,
            "board": board,
            "intents": intents,
            "flags": [selectors.FLAG_TEXT[f] for f in board.flags],
            "waitlist": list(selectors.event_registrations(event=event, state=RegistrationState.WAITLISTED)),
            "registrations": list(selectors.event_registrations(event=event)[:200]),
            "comments": list(selectors.survey_comments(event=event)),
            "invite_form": forms_events.InviteForm(),
            "can_release": event.is_held and access.can_release_event(me),
        },
    )


def _registration_of_event(me: User, event: Event, raw: str) -> Registration:
    if not raw.isdigit():
        raise ApplicationError(ErrorCode.BAD_REQUEST, "Choose a registration")
    reg = access.registration_for_view(me, int(raw))
    if reg.event_id != event.pk:
        raise not_found("No such registration")
    return reg


@require_http_methods(["GET", "POST"])
def event_checkin(request: HttpRequest, event_id: int) -> HttpResponse:
    """Search the confirmed registrants; one click checks someone in, another marks a no-show."""
    me = _viewer(request)
    event = access.event_for_view(me, event_id)
    access.require(access.can_checkin(me, event), "Only the event's organisers check people in")
    q = request.GET.get("q", "") if request.method == "GET" else request.POST.get("q", "")
    if request.method == "POST":
        reg = _registration_of_event(me, event, request.POST.get("registration", ""))
        action = request.POST.get("action", "")
        try:
            if action == "checkin":
                services.checkin(registration=reg)
                messages.success(request, f"{reg.member.name} is checked in.")
            elif action in {"no_show", "undo_no_show"}:
                services.mark_no_show(registration=reg, no_show=action == "no_show")
                messages.success(
                    request,
                    f"{reg.member.name} is marked as a no-show."
                    if action == "no_show"
                    else f"{reg.member.name} is no longer a no-show.",
                )
            else:
                raise ApplicationError(ErrorCode.BAD_REQUEST, "Choose check in or no-show")
        except ApplicationError as err:
            messages.error(request, _say(err))
        url = reverse("events:event_checkin", args=[event.pk])
        return redirect(f"{url}?q={q}" if q else url)
    form = forms_events.CheckinSearchForm(request.GET or None)
    rows = selectors.checkin_search(event=event, q=q, limit=CHECKIN_LIMIT)
    board = selectors.event_dashboard(event=event)
    return render(
        request,
        "web/events/checkin.html",
        {
            "event": event,
            "form": form,
            "q": q,
            "rows": rows,
            "board": board,
            "started": timezone.now() >= event.starts_at,
        },
    )


# --- organisers: recurring series, invitations, releasing a held event ---------------------


@require_http_methods(["GET", "POST"])
def event_recurring(request: HttpRequest, event_id: int) -> HttpResponse:
    """ "Make this recurring": the event becomes the first of a weekly, monthly or custom series."""
    me = _viewer(request)
    event = access.event_for_change(me, event_id)
    if event.series_id is not None:
        messages.info(request, "This event is already part of a series.")
        return redirect("events:series_detail", series_id=event.series_id)
    form = forms_events.RepeatForm(request.POST if request.method == "POST" else None, initial={"repeat": "weekly"})
    if request.method == "POST" and form.is_valid():
        from zoneinfo import ZoneInfo

        first = event.starts_at.astimezone(ZoneInfo(event.time_zone))
        try:
            series = services.series_from_event(event=event, actor=me, **form.repeat_args(first))
        except ApplicationError as err:
            _series_errors(form, err)
        else:
            return _series_created(request, series)
    return render(request, "web/events/recurring.html", {"event": event, "form": form})


def _series_for_view(me: User | Any, series_id: int) -> tuple[EventSeries, list[Event]]:
    """A series with the occurrences the viewer may see; NOT_FOUND when they see none."""
    series = EventSeries.objects.filter(pk=series_id).first()
    events = (
        list(selectors.with_counts(access.visible_events(me).filter(series=series)).order_by("starts_at", "pk"))
        if series is not None
        else []
    )
    if series is None or not events:
        raise not_found("No such series")
    return series, events


def series_detail(request: HttpRequest, series_id: int) -> HttpResponse:
    """The series' rule and its occurrences, each with its seats and a link to it."""
    user = request.user
    series, events = _readable(request, lambda: _series_for_view(user, series_id))
    organiser = access.is_authenticated(user) and any(access.can_change_event(user, e) for e in events[:1])
    now = timezone.now()
    return render(
        request,
        "web/events/series_detail.html",
        {
            "series": series,
            "upcoming": [e for e in events if e.ends_at > now],
            "past": [e for e in events if e.ends_at <= now],
            "first": events[0],
            "is_organiser": organiser,
            "extend_form": forms_events.ExtendSeriesForm() if organiser else None,
        },
    )


@require_POST
def series_extend(request: HttpRequest, series_id: int) -> HttpResponse:
    me = _viewer(request)
    series, events = _series_for_view(me, series_id)
    access.require(access.can_change_event(me, events[0]), "Only the series' organisers may extend it")
    form = forms_events.ExtendSeriesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the date the series should run until.")
    else:
        try:
            made = services.series_extend(series=series, horizon=form.cleaned_data["until"], actor=me)
        except ApplicationError as err:
            messages.error(request, _say(err))
        else:
            messages.success(request, f"{len(made)} more occurrence{'s' if len(made) != 1 else ''} added.")
    return redirect("events:series_detail", series_id=series.pk)


@require_POST
def event_invite(request: HttpRequest, event_id: int) -> HttpResponse:
    """Invite several people at once, by email or @handle; back to where the form was."""
    me = _viewer(request)
    event = access.event_for_change(me, event_id)
    back = reverse(
        "events:event_dashboard" if request.POST.get("from") == "dashboard" else "events:event_detail", args=[event.pk]
    )
    form = forms_events.InviteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give at least one email address or @handle.")
        return redirect(f"{back}#invite")
    found: list[Member] = []
    unknown: list[str] = []
    for raw in form.names():
        member = _find_member(me, raw)
        if member is None:
            unknown.append(raw)
        elif member not in found:
            found.append(member)
    if unknown:
        messages.error(
            request, f"Nobody you can see has the email address or @handle {', '.join(unknown)}; nobody was invited."
        )
        return redirect(f"{back}#invite")
    try:
        done = services.event_invite(event=event, members=found, by=_member(me))
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        if done.invited:
            names = ", ".join(m.name for m in done.invited)
            messages.success(request, f"Invited {names}: they get an email with the calendar entry and a notification.")
        if done.again:
            names = ", ".join(m.name for m in done.again)
            messages.info(request, f"Already invited before, not sent again: {names}.")
    return redirect(f"{back}#invite")


@require_POST
def event_release(request: HttpRequest, event_id: int) -> HttpResponse:
    """Admins and community managers publish a held community event after reading its reasons."""
    me = _viewer(request)
    event = access.event_for_view(me, event_id)
    access.require(access.can_release_event(me), "Only admins and community managers release held events")
    try:
        services.event_release(event=event, actor=me)
    except ApplicationError as err:
        messages.error(request, _say(err))
    else:
        messages.success(request, f"“{event.title}” is released: it is published and open for registration.")
    return _to_event(event)


# --- attendees: the survey ----------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def event_survey(request: HttpRequest, event_id: int) -> HttpResponse:
    """The two questions, for people who were checked in, once the event is over."""
    me = _viewer(request)
    event = access.event_for_view(me, event_id)
    member = _member(me)
    reg = selectors.registration_of(event=event, member=member)
    answered = selectors.survey_of(registration=reg) if reg is not None else None
    form = forms_events.SurveyForm(request.POST if request.method == "POST" else None)
    problem = ""
    if reg is None or reg.attended_at is None:
        problem = "Only people who were checked in at this event answer its survey."
    elif timezone.now() < event.ends_at:
        problem = "The survey opens when the event is over."
    if request.method == "POST" and not problem and answered is None and form.is_valid():
        assert reg is not None
        try:
            services.survey_submit(
                registration=reg, member=member, fit=form.cleaned_data["fit"], comment=form.cleaned_data["comment"]
            )
        except ApplicationError as err:
            forms.add_service_errors(form, err)
        else:
            messages.success(request, "Thank you: the organisers will see your answer.")
            return _to_event(event)
    return render(
        request,
        "web/events/survey.html",
        {"event": event, "form": form, "problem": problem, "answered": answered},
    )


# --- staff: the fit report ---------------------------------------------------------------


def fit_report(request: HttpRequest) -> HttpResponse:
    me = _viewer(request)
    access.require(access.is_staff(me), "Only staff see the fit report")
    report = selectors.fit_report(viewer=me)
    return render(
        request,
        "web/events/fit_report.html",
        {
            "report": report,
            "rows": [(f, [selectors.FLAG_TEXT[flag] for flag in f.flags]) for f in report.events],
        },
    )
