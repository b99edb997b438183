"""The demo's events: both frames, briefs, audiences with intents, attendance, surveys,
mismatches the fit report flags, and the activities the services would have recorded."""

from __future__ import annotations

import pytest
from django.db.models import Count, Q
from django.utils import timezone

from convenor.activity.models import Activity, Verb
from convenor.core.models import User
from convenor.events import selectors
from convenor.events.demo import MIN_EVENTS, event_count
from convenor.events.models import Event, EventRole, Frame, Intent, Registration, RegistrationState, RoleKind, Survey
from convenor.people.demo import build_demo, demo_reset
from convenor.people.models import Role

pytestmark = pytest.mark.django_db

SIZE = 300


@pytest.fixture
def built() -> None:
    result = build_demo(members=SIZE, seed=1, steps=False)
    assert result.events["events"] == event_count(SIZE) == MIN_EVENTS
    assert "Events:" in result.summary()


def test_both_frames_past_and_upcoming_with_briefs_on_commercial_ones(built: None) -> None:
    now = timezone.now()
    for frame in Frame.values:
        assert Event.objects.filter(frame=frame, ends_at__lte=now).exists(), frame
        assert Event.objects.filter(frame=frame, starts_at__gt=now).exists(), frame
    for event in Event.objects.filter(frame=Frame.COMMERCIAL):
        assert all(event.brief.values()) and event.commercial_owner is not None
        assert event.commercial_owner.role == Role.EMPLOYEE
    assert not Event.objects.filter(frame=Frame.COMMUNITY).exclude(brief_offer="").exists()
    assert all(e.description_html for e in Event.objects.all())


def test_hosts_are_employees_and_customers_speak_at_community_events(built: None) -> None:
    assert not EventRole.objects.filter(role=RoleKind.HOST).exclude(member__role=Role.EMPLOYEE).exists()
    assert EventRole.objects.filter(
        role=RoleKind.SPEAKER, member__role=Role.CUSTOMER, event__frame=Frame.COMMUNITY
    ).exists()
    assert not Event.objects.annotate(h=Count("roles", filter=Q(roles__role=RoleKind.HOST))).filter(h=0).exists()


def test_audiences_have_intents_attendance_and_surveys(built: None) -> None:
    regs = Registration.objects.all()
    assert set(regs.values_list("intent", flat=True)) == set(Intent.values)
    assert regs.filter(state=RegistrationState.CONFIRMED).exists()
    # Capacity holds everywhere.
    for event in Event.objects.all():
        assert event.capacity is None or selectors.event_seats(event=event).confirmed <= event.capacity
    now = timezone.now()
    assert regs.filter(attended_at__isnull=False).exists()
    assert not regs.filter(attended_at__isnull=False, event__starts_at__gt=now).exists()
    assert Survey.objects.exists()
    assert not Survey.objects.filter(registration__attended_at__isnull=True).exists()
    # People told of a mismatch registered anyway: buyers at community events.
    assert regs.filter(intent=Intent.BUYER, event__frame=Frame.COMMUNITY, acknowledged_frame_mismatch=True).exists()


def test_the_fit_report_flags_the_mismatched_community_event(built: None) -> None:
    admin = User.objects.get(email="admin@northwind.example")
    report = selectors.fit_report(viewer=admin)
    flagged = {f.event.title: f.flags for f in report.mismatches}
    assert any(
        title.startswith("Get the most out of") and "community_mostly_buyers" in flags and "low_fit" in flags
        for title, flags in flagged.items()
    ), flagged
    assert any(not f.flags for f in report.events)  # and some are well framed
    assert report.organisers


def test_activities_are_recorded_as_the_services_record_them(built: None) -> None:
    acts = Activity.objects.filter(place_kind="event")
    verbs = set(acts.values_list("verb", flat=True))
    assert {Verb.HOSTED, Verb.SPOKE, Verb.REGISTERED, Verb.ATTENDED, Verb.PROSPECTED} <= verbs
    assert acts.filter(verb=Verb.REGISTERED).count() == Registration.objects.count()
    reg = Registration.objects.filter(intent=Intent.BUYER, event__frame=Frame.COMMERCIAL).first()
    assert reg is not None
    line = acts.get(origin_id=f"event-registration:{reg.pk}")
    assert line.actor_id == reg.member_id and line.data == {"intent": "buyer"} and line.place_id == reg.event_id
    prospect = acts.get(origin_id=f"event-prospect:{reg.pk}")
    assert prospect.actor_id == reg.event.commercial_owner_id and prospect.target_member_id == reg.member_id
    assert acts.filter(verb=Verb.ATTENDED).count() == Registration.objects.filter(attended_at__isnull=False).count()


def test_reset_clears_the_events(built: None) -> None:
    demo_reset()
    assert not Event.objects.exists() and not Registration.objects.exists() and not Survey.objects.exists()
    build_demo(members=SIZE, seed=1, steps=False)
    assert Event.objects.count() == MIN_EVENTS
