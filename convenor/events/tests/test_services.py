"""Events through their services: validation, frames and intents, the waitlist, attendance,
surveys, activities and access."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from convenor.activity.models import Activity, Verb
from convenor.core import access
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.testing import World
from convenor.events import charter, selectors
from convenor.events.charter import CharterVerdict
from convenor.events.models import CheckState, Event, Frame, Intent, Registration, RegistrationState, Survey, Visibility
from convenor.events.services import (
    FrameMismatch,
    checkin,
    event_cancel,
    event_update,
    mark_no_show,
    registration_cancel,
    registration_create,
    series_create,
    survey_submit,
)
from convenor.people.models import Member, Role
from convenor.people.services import member_create

from .conftest import BRIEF, make_event, soon


def people(world: World, n: int) -> list[Member]:
    return [
        member_create(name=f"Person {i}", email=f"p{i}@acme.example", role=Role.CUSTOMER, organization=world.acme)
        for i in range(n)
    ]


# --- bad input: a clear message and nothing stored ---------------------------------------------


def test_end_before_start_is_refused(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        make_event(world, starts_at=soon(), ends_at=soon() - timedelta(hours=1))
    assert err.value.code == ErrorCode.VALIDATION
    assert err.value.fields["ends_at"] == ["The event must end after it starts"]
    assert not Event.objects.exists()


def test_capacity_below_one_is_refused(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        make_event(world, capacity=0)
    assert "capacity" in err.value.fields and not Event.objects.exists()


def test_unknown_time_zone_and_close_after_end_are_refused(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        make_event(world, time_zone="Mars/Olympus", registration_closes_at=soon(days=9))
    assert set(err.value.fields) >= {"time_zone", "registration_closes_at"}
    assert not Event.objects.exists()


def test_commercial_event_without_its_brief_is_refused_with_a_clear_message(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        make_event(world, frame=Frame.COMMERCIAL, brief_audience="data teams")
    fields = err.value.fields
    assert set(fields) == {"brief_reason", "brief_offer", "brief_payment", "commercial_owner"}
    assert fields["brief_offer"] == ["A commercial event states what is offered"]
    assert "A commercial event states why they want to hear it" in err.value.message
    assert not Event.objects.exists()


def test_commercial_owner_must_be_an_employee(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        make_event(world, frame=Frame.COMMERCIAL, commercial_owner=world.acme_member, **BRIEF)
    assert err.value.fields["commercial_owner"] == ["Carla Acme is not an employee"]


def test_hosts_must_see_the_event(world: World) -> None:
    with pytest.raises(ApplicationError) as err:
        make_event(world, visibility=Visibility.ACCOUNT, organization=world.acme, hosts=[world.globex_member])
    assert err.value.fields["hosts"] == ["Gus Globex cannot see this event"]
    assert not Event.objects.exists()


def test_registering_twice_is_refused(world: World, meetup: Event) -> None:
    registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    with pytest.raises(ApplicationError) as err:
        registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    assert err.value.code == ErrorCode.DUPLICATE
    assert Registration.objects.filter(event=meetup).count() == 1


def test_registering_after_close_is_refused(world: World) -> None:
    event = make_event(world, registration_closes_at=soon(days=2))
    with pytest.raises(ApplicationError) as err:
        registration_create(event=event, member=world.acme_member, intent=Intent.USER, now=soon(days=3))
    assert err.value.code == ErrorCode.CONFLICT and "closed" in err.value.message
    assert not Registration.objects.exists()


def test_registering_for_a_cancelled_event_is_refused(world: World, meetup: Event) -> None:
    event_cancel(event=meetup)
    with pytest.raises(ApplicationError) as err:
        registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    assert err.value.code == ErrorCode.CONFLICT


def test_registering_for_an_event_one_cannot_see_is_not_found(world: World) -> None:
    acme_only = make_event(world, visibility=Visibility.ACCOUNT, organization=world.acme)
    with pytest.raises(ApplicationError) as err:
        registration_create(event=acme_only, member=world.globex_member, intent=Intent.USER)
    assert err.value.code == ErrorCode.NOT_FOUND
    assert not Registration.objects.exists()


# --- frames and intents ---------------------------------------------------------------------


def test_a_buyer_at_a_community_event_is_told_what_it_is_and_offered_the_commercial_route(
    world: World, meetup: Event, pitch: Event
) -> None:
    with pytest.raises(FrameMismatch) as err:
        registration_create(event=meetup, member=world.acme_member, intent=Intent.BUYER)
    assert err.value.code == ErrorCode.FRAME_MISMATCH and err.value.status == 409
    assert "community session" in err.value.message and "nothing is sold" in err.value.message
    assert pitch.title in err.value.message and err.value.alternatives == [pitch]
    assert not Registration.objects.exists()

    reg = registration_create(event=meetup, member=world.acme_member, intent=Intent.BUYER, acknowledged=True)
    assert reg.state == RegistrationState.CONFIRMED and reg.acknowledged_frame_mismatch


def test_a_user_at_a_commercial_event_is_told_it_is_a_sales_session(world: World, pitch: Event) -> None:
    with pytest.raises(FrameMismatch) as err:
        registration_create(event=pitch, member=world.acme_member, intent=Intent.USER)
    assert "sales session" in err.value.message and BRIEF["brief_offer"] in err.value.message
    reg = registration_create(event=pitch, member=world.acme_member, intent=Intent.USER, acknowledged=True)
    assert reg.acknowledged_frame_mismatch


def test_matching_intents_need_no_acknowledgement(world: World, meetup: Event, pitch: Event) -> None:
    assert not registration_create(
        event=meetup, member=world.acme_member, intent=Intent.USER
    ).acknowledged_frame_mismatch
    assert not registration_create(
        event=pitch, member=world.acme_member, intent=Intent.BUYER
    ).acknowledged_frame_mismatch
    assert not registration_create(
        event=meetup, member=world.globex_member, intent=Intent.OTHER
    ).acknowledged_frame_mismatch


# --- activities -----------------------------------------------------------------------------


def test_hosting_speaking_registering_and_attending_are_recorded(world: World) -> None:
    event = make_event(world, speakers=[world.acme_member], starts_at=soon(0, hours=-1), ends_at=soon(0, hours=1))
    hosted = Activity.objects.get(verb=Verb.HOSTED)
    assert (hosted.actor, hosted.place_kind, hosted.place_id) == (world.admin_member, "event", event.pk)
    assert Activity.objects.get(verb=Verb.SPOKE).actor == world.acme_member
    reg = registration_create(event=event, member=world.globex_member, intent=Intent.USER)
    registered = Activity.objects.get(verb=Verb.REGISTERED)
    assert registered.actor == world.globex_member and registered.data == {"intent": "user"}
    checkin(registration=reg)
    checkin(registration=reg)  # idempotent
    assert Activity.objects.filter(verb=Verb.ATTENDED, actor=world.globex_member, place_id=event.pk).count() == 1


def test_a_buyer_registration_draws_a_prospecting_line_from_the_commercial_owner(
    world: World, pitch: Event, seller: Member
) -> None:
    registration_create(event=pitch, member=world.acme_member, intent=Intent.BUYER)
    line = Activity.objects.get(verb=Verb.PROSPECTED)
    assert (line.actor, line.target_member) == (seller, world.acme_member)
    assert (line.place_kind, line.place_id, line.data) == ("event", pitch.pk, {"intent": "buyer"})
    # Other members do not see prospecting, even at an event they can see; staff do.
    assert not access.visible_activities(world.globex_user).filter(verb=Verb.PROSPECTED).exists()
    assert access.visible_activities(world.admin).filter(verb=Verb.PROSPECTED).exists()


def test_users_create_no_prospecting_line(world: World, pitch: Event) -> None:
    registration_create(event=pitch, member=world.acme_member, intent=Intent.USER, acknowledged=True)
    assert not Activity.objects.filter(verb=Verb.PROSPECTED).exists()


# --- capacity and waitlist ------------------------------------------------------------------


def test_the_waitlist_is_promoted_in_order(world: World) -> None:
    event = make_event(world, capacity=2)
    a, b, c, d = people(world, 4)
    ra, rb = (registration_create(event=event, member=m, intent=Intent.USER) for m in (a, b))
    rc, rd = (registration_create(event=event, member=m, intent=Intent.USER) for m in (c, d))
    assert [r.state for r in (ra, rb)] == [RegistrationState.CONFIRMED] * 2
    assert (rc.state, rc.waitlist_position, rd.waitlist_position) == (RegistrationState.WAITLISTED, 1, 2)
    assert selectors.waitlist_place(registration=rd) == 2

    registration_cancel(registration=rb)
    rc.refresh_from_db()
    rd.refresh_from_db()
    assert (rc.state, rc.waitlist_position) == (RegistrationState.CONFIRMED, None)
    assert rd.state == RegistrationState.WAITLISTED and selectors.waitlist_place(registration=rd) == 1

    event_update(event=event, capacity=3)
    rd.refresh_from_db()
    assert rd.state == RegistrationState.CONFIRMED


def test_seats_cannot_drop_below_those_confirmed(world: World) -> None:
    event = make_event(world, capacity=2)
    for m in people(world, 2):
        registration_create(event=event, member=m, intent=Intent.USER)
    with pytest.raises(ApplicationError) as err:
        event_update(event=event, capacity=1)
    assert err.value.fields["capacity"] == ["At least 2"]


def test_a_cancelled_registration_can_register_again(world: World, meetup: Event) -> None:
    reg = registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    registration_cancel(registration=reg)
    again = registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    assert again.pk != reg.pk and again.state == RegistrationState.CONFIRMED


# --- attendance and surveys -----------------------------------------------------------------


def test_checkin_and_no_show(world: World) -> None:
    event = make_event(world, starts_at=soon(0, hours=-1), ends_at=soon(0, hours=1))
    came, stayed_home = people(world, 2)
    r1 = registration_create(event=event, member=came, intent=Intent.USER)
    r2 = registration_create(event=event, member=stayed_home, intent=Intent.BUYER, acknowledged=True)
    checkin(registration=r1)
    mark_no_show(registration=r2)
    assert r1.attended_at is not None and r2.no_show
    with pytest.raises(ApplicationError):
        mark_no_show(registration=r1)  # checked in
    assert [r.member for r in selectors.checkin_search(event=event, q="person 1")] == [stayed_home]
    figures = selectors.event_dashboard(event=event)
    assert figures.attendance_rate == 0.5 and figures.no_shows == 1
    assert figures.by_intent["buyer"]["confirmed"] == 1
    assert figures.flags == []  # one buyer of two is not "mostly"


def test_no_shows_are_marked_only_once_the_event_started(world: World, meetup: Event) -> None:
    reg = registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    with pytest.raises(ApplicationError) as err:
        mark_no_show(registration=reg)
    assert err.value.code == ErrorCode.CONFLICT


def test_survey_rules(world: World) -> None:
    event = make_event(world, starts_at=soon(0, hours=-1), ends_at=soon(0, hours=1))
    came, absent = people(world, 2)
    r1 = registration_create(event=event, member=came, intent=Intent.USER)
    r2 = registration_create(event=event, member=absent, intent=Intent.USER)
    checkin(registration=r1)
    with pytest.raises(ApplicationError) as err:
        survey_submit(registration=r1, member=came, fit=4)  # not over yet
    assert err.value.code == ErrorCode.CONFLICT
    after = soon(0, hours=2)
    with pytest.raises(ApplicationError) as err:
        survey_submit(registration=r2, member=absent, fit=4, now=after)  # did not attend
    assert err.value.code == ErrorCode.CONFLICT
    with pytest.raises(ApplicationError) as err:
        survey_submit(registration=r1, member=absent, fit=4, now=after)  # not theirs
    assert err.value.code == ErrorCode.PERMISSION_DENIED
    with pytest.raises(ApplicationError) as err:
        survey_submit(registration=r1, member=came, fit=6, now=after)
    assert "fit" in err.value.fields
    survey_submit(registration=r1, member=came, fit=2, comment="It was a pitch", now=after)
    with pytest.raises(ApplicationError) as err:
        survey_submit(registration=r1, member=came, fit=5, now=after)
    assert err.value.code == ErrorCode.DUPLICATE
    assert Survey.objects.get().fit == 2
    figures = selectors.event_dashboard(event=event)
    assert (figures.fit_score, figures.fit_responses, figures.flags) == (2.0, 1, ["low_fit"])


def test_fit_report_ranks_events_and_hosts_and_flags_mismatches(world: World, seller: Member) -> None:
    past = {"starts_at": soon(days=-2), "ends_at": soon(days=-2, hours=2)}
    good = make_event(world, title="Good", **past)
    buyers_crowd = make_event(world, title="Buyers crowd", hosts=[seller], **past)
    members = people(world, 3)
    for m in members:
        Registration.objects.create(
            event=good, member=m, intent=Intent.USER, state=RegistrationState.CONFIRMED, attended_at=timezone.now()
        )
        Registration.objects.create(
            event=buyers_crowd, member=m, intent=Intent.BUYER, state=RegistrationState.CONFIRMED
        )
    for reg, fit in zip(Registration.objects.filter(event=good).order_by("pk"), (5, 4, 5), strict=True):
        Survey.objects.create(registration=reg, fit=fit)
    report = selectors.fit_report(viewer=world.admin)
    assert [f.event for f in report.events] == [good, buyers_crowd]
    assert report.events[0].fit_score == 4.67
    assert [f.event for f in report.mismatches] == [buyers_crowd]
    assert report.mismatches[0].flags == ["community_mostly_buyers"]
    assert [(o.member, o.flagged_events) for o in report.organisers] == [(world.admin_member, 0), (seller, 1)]


# --- cancellation, notifications, emails ----------------------------------------------------


def test_cancelling_tells_registrants_with_a_cancelling_ics(
    world: World, meetup: Event, django_capture_on_commit_callbacks: object
) -> None:
    from typing import Any

    capture: Any = django_capture_on_commit_callbacks
    with capture(execute=True):
        registration_create(event=meetup, member=world.acme_member, intent=Intent.USER)
    assert mail.outbox[-1].subject.endswith(f"Registered: {meetup.title}")
    with capture(execute=True):
        event_cancel(event=meetup, reason="The room flooded")
    message = mail.outbox[-1]
    assert "Cancelled" in message.subject and "The room flooded" in message.body
    name, content, mimetype = message.attachments[0]
    text = content.decode() if isinstance(content, bytes) else content
    assert name == "event.ics" and mimetype.startswith("text/calendar") and "STATUS:CANCELLED" in text
    assert world.acme_user.notifications.filter(kind="event_cancelled").exists()


# --- the charter check ----------------------------------------------------------------------


def test_a_promotional_community_event_is_held_with_reasons(world: World) -> None:
    reasons = [{"phrase": "book a call", "weight": 1.2, "kind": "signal", "signal": "call to action"}]
    charter.set_policy(lambda text: CharterVerdict(state=CheckState.HELD, score=0.93, reasons=reasons))
    event = make_event(world, description="Book a call for our rate card")
    assert event.check_state == CheckState.HELD and event.check_reasons == reasons
    assert not access.visible_events(world.acme_user).filter(pk=event.pk).exists()
    assert access.visible_events(world.admin).filter(pk=event.pk).exists()
    assert world.admin.notifications.filter(kind="event_held").exists()


def test_commercial_events_are_not_held_to_the_charter(world: World, pitch: Event) -> None:
    charter.set_policy(lambda text: CharterVerdict(state=CheckState.HELD, score=0.99))
    event_update(event=pitch, description="Book a call, 20% off")
    pitch.refresh_from_db()
    assert pitch.check_state == CheckState.OK


def test_the_shipped_detector_holds_a_pitch_or_marks_it_unchecked(world: World, settings: object) -> None:
    charter.set_policy(charter.detector_policy)
    event = make_event(
        world,
        description="Limited offer: 30% off our premium plan this week only. Book a demo now at shop.example/buy!",
    )
    assert event.check_state in (CheckState.HELD, CheckState.UNCHECKED)
    if event.check_state == CheckState.HELD:
        assert event.check_score is not None and event.check_reasons


def test_without_a_model_the_event_is_published_unchecked(world: World, settings: object, tmp_path: object) -> None:
    from pathlib import Path
    from typing import Any

    from convenor.charter import detector

    s: Any = settings
    assert isinstance(tmp_path, Path)
    s.CHARTER_MODEL_PATH = tmp_path / "missing.joblib"
    detector.reset_cache()
    charter.set_policy(charter.detector_policy)
    try:
        event = make_event(world)
    finally:
        detector.reset_cache()
    assert event.check_state == CheckState.UNCHECKED
    assert access.visible_events(world.acme_user).filter(pk=event.pk).exists()


# --- access ---------------------------------------------------------------------------------


def test_globex_cannot_see_acmes_account_event(world: World) -> None:
    event = make_event(world, visibility=Visibility.ACCOUNT, organization=world.acme)
    assert access.event_for_view(world.acme_user, event.pk) == event
    with pytest.raises(ApplicationError) as err:
        access.event_for_view(world.globex_user, event.pk)
    assert err.value.code == ErrorCode.NOT_FOUND
    assert event not in selectors.event_list(viewer=world.globex_user)


def test_an_event_in_a_space_is_seen_by_the_spaces_readers(world: World, acme_space: object) -> None:
    from convenor.spaces.models import Space

    assert isinstance(acme_space, Space)
    event = make_event(world, space=acme_space)
    assert event.visibility == Visibility.ACCOUNT and event.organization == world.acme
    assert access.visible_events(world.acme_user).filter(pk=event.pk).exists()
    assert not access.visible_events(world.globex_user).filter(pk=event.pk).exists()
    assert not access.visible_events(world.outsider).filter(pk=event.pk).exists()


def test_organisers_change_and_others_do_not(world: World, meetup: Event, pitch: Event, seller: Member) -> None:
    assert access.can_change_event(world.admin, meetup)
    assert not access.can_change_event(world.acme_user, meetup)
    assert seller.user is not None and access.can_change_event(seller.user, pitch)
    assert access.can_create_event(seller.user, frame=Frame.COMMERCIAL)
    assert not access.can_create_event(seller.user, frame=Frame.COMMUNITY)
    with pytest.raises(ApplicationError) as err:
        access.event_for_change(world.acme_user, meetup.pk)
    assert err.value.code == ErrorCode.PERMISSION_DENIED


# --- series ---------------------------------------------------------------------------------


def test_a_weekly_series_keeps_local_time_across_daylight_saving(world: World) -> None:
    from datetime import date, datetime
    from zoneinfo import ZoneInfo

    paris = ZoneInfo("Europe/Paris")
    first = datetime(2027, 3, 11, 18, 0, tzinfo=paris)  # DST starts on 28 March 2027
    series = series_create(
        recurrence="weekly",
        horizon=date(2027, 4, 1),
        title="Thursday clinic",
        starts_at=first,
        ends_at=first + timedelta(hours=1),
        time_zone="Europe/Paris",
        place="Online room",
        frame=Frame.COMMUNITY,
        creator=world.admin_member,
    )
    starts = [e.starts_at.astimezone(paris) for e in series.occurrences.order_by("starts_at")]
    assert [s.day for s in starts] == [11, 18, 25, 1]
    assert {(s.hour, s.minute) for s in starts} == {(18, 0)}


def test_a_monthly_series_on_the_31st_falls_on_month_ends(world: World) -> None:
    from datetime import UTC, date, datetime

    from convenor.events.services import occurrence_starts

    first = datetime(2031, 1, 31, 9, 0, tzinfo=UTC)
    starts = occurrence_starts(
        first=first, time_zone="UTC", recurrence="monthly", interval=1, horizon=date(2031, 4, 30)
    )
    assert [s.date() for s in starts] == [date(2031, 1, 31), date(2031, 2, 28), date(2031, 3, 31), date(2031, 4, 30)]
