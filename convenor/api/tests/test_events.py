"""The events API with real tokens: create (the brief is required), register with intent
(the frame-mismatch answer), the waitlist, attendance, surveys, the dashboard, access."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from convenor.core.models import StaffRole
from convenor.core.testing import PASSWORD, World
from convenor.events import charter
from convenor.events.charter import CharterVerdict
from convenor.events.models import CheckState, Event, Registration
from convenor.people.models import Member
from convenor.people.services import account_create

from .conftest import Api, api_as


def when(days: float) -> str:
    return (timezone.now() + timedelta(days=days)).replace(microsecond=0).isoformat()


BRIEF = {
    "brief_audience": "data teams choosing a pipeline tool",
    "brief_reason": "their nightly loads miss the morning reports",
    "brief_offer": "Pipelines Pro with a migration service",
    "brief_payment": "a yearly subscription per workspace",
}


@pytest.fixture(autouse=True)
def _charter_ok() -> Iterator[None]:
    previous = charter.set_policy(lambda text: CharterVerdict(state=CheckState.OK))
    yield
    charter.set_policy(previous)


@pytest.fixture
def seller(world: World) -> Member:
    user = account_create(
        email="sam@northwind.example", password=PASSWORD, name="Sam Sales", staff_role=StaffRole.SALES
    )
    return Member.objects.get(user=user)


def community(**extra: Any) -> dict[str, Any]:
    return {
        "title": "Get the most out of Pipelines",
        "description": "Users show how they **schedule** loads.",
        "starts_at": when(7),
        "ends_at": when(7.1),
        "time_zone": "Europe/Paris",
        "place": "Lyon office",
        "frame": "community",
        "capacity": 1,
        **extra,
    }


def test_create_read_and_list_an_event(world: World, admin_api: Api, acme_api: Api) -> None:
    resp = admin_api.post("/events", community())
    assert resp.status == 201, resp.body
    body = resp.body
    assert body["frame"] == "community" and body["brief"] is None
    assert body["description_html"] == "<p>Users show how they <strong>schedule</strong> loads.</p>\n"
    assert body["hosts"] == [{"id": world.admin_member.pk, "name": "Ada Admin"}]
    assert body["ics_url"].endswith(f"/events/{body['id']}.ics") and body["can_change"] is True
    listed = acme_api.get("/events").body
    assert listed["count"] == 1 and listed["items"][0]["registrations_by_intent"] == {"user": 0, "buyer": 0, "other": 0}
    assert acme_api.get(f"/events/{body['id']}").body["can_change"] is False


def test_a_commercial_event_without_its_brief_is_refused(world: World, admin_api: Api, seller: Member) -> None:
    resp = admin_api.post("/events", community(frame="commercial", commercial_owner_id=seller.pk))
    assert resp.status == 422 and resp.body["error"]["code"] == "validation_error"
    assert set(resp.body["error"]["fields"]) == set(BRIEF)
    assert not Event.objects.exists()
    ok = admin_api.post("/events", community(frame="commercial", commercial_owner_id=seller.pk, **BRIEF))
    assert ok.status == 201 and ok.body["brief"]["offer"] == BRIEF["brief_offer"]


def test_bad_times_and_capacity_are_refused(world: World, admin_api: Api) -> None:
    resp = admin_api.post("/events", community(ends_at=when(6), capacity=0))
    assert resp.status == 422
    assert set(resp.body["error"]["fields"]) == {"ends_at", "capacity"}


def test_who_may_create_events(world: World, acme_api: Api, seller: Member) -> None:
    assert acme_api.post("/events", community()).status == 403
    assert seller.user is not None
    sales = api_as(seller.user)
    assert sales.post("/events", community()).status == 403
    made = sales.post("/events", community(frame="commercial", commercial_owner_id=seller.pk, **BRIEF))
    assert made.status == 201


def test_register_with_intent_the_mismatch_notice_and_the_waitlist(
    world: World, admin_api: Api, acme_api: Api, globex_api: Api
) -> None:
    event_id = admin_api.post("/events", community()).body["id"]
    path = f"/events/{event_id}/registrations"
    notice = acme_api.post(path, {"intent": "buyer"})
    assert notice.status == 409 and notice.body["error"]["code"] == "frame_mismatch"
    assert "community session" in notice.body["error"]["message"]
    reg = acme_api.post(path, {"intent": "buyer", "acknowledge_frame": True})
    assert reg.status == 201 and reg.body["state"] == "confirmed" and reg.body["acknowledged_frame_mismatch"]
    assert acme_api.post(path, {"intent": "user"}).body["error"]["code"] == "duplicate"
    waiting = globex_api.post(path, {"intent": "user"})
    assert waiting.body["state"] == "waitlisted" and waiting.body["waitlist_place"] == 1

    assert acme_api.get(path).status == 403  # organisers only
    regs = admin_api.get(path).body
    assert [r["member"]["name"] for r in regs["items"]] == ["Carla Acme", "Gus Globex"]

    # Globex cannot cancel Carla's registration; Carla can, and Gus gets the seat.
    assert globex_api.delete(f"/registrations/{reg.body['id']}").status == 404
    assert acme_api.delete(f"/registrations/{reg.body['id']}").body["state"] == "cancelled"
    assert Registration.objects.get(pk=waiting.body["id"]).state == "confirmed"

    dashboard = admin_api.get(f"/events/{event_id}/dashboard").body
    assert dashboard["by_intent"]["user"]["confirmed"] == 1 and dashboard["by_intent"]["buyer"]["cancelled"] == 1
    assert dashboard["seats_left"] == 0 and dashboard["fit_score"] is None
    assert acme_api.get(f"/events/{event_id}/dashboard").status == 403


def test_an_account_event_is_not_found_for_another_customer(world: World, admin_api: Api, globex_api: Api) -> None:
    event_id = admin_api.post("/events", community(visibility="account", organization_id=world.acme.pk)).body["id"]
    assert globex_api.get(f"/events/{event_id}").status == 404
    resp = globex_api.post(f"/events/{event_id}/registrations", {"intent": "user"})
    assert resp.status == 404 and resp.body["error"]["code"] == "not_found"


def test_checkin_no_show_and_survey(world: World, admin_api: Api, acme_api: Api, globex_api: Api) -> None:
    event_id = admin_api.post("/events", community(capacity=None)).body["id"]
    carla = acme_api.post(f"/events/{event_id}/registrations", {"intent": "user"}).body["id"]
    gus = globex_api.post(f"/events/{event_id}/registrations", {"intent": "user"}).body["id"]
    assert acme_api.post(f"/registrations/{carla}/checkin").status == 403
    checked = admin_api.post(f"/registrations/{carla}/checkin")
    assert checked.status == 200 and checked.body["attended_at"] is not None
    assert admin_api.post(f"/registrations/{gus}/no-show", {}).body["error"]["code"] == "conflict"  # not started
    # Move the event into the past, as time would.
    Event.objects.filter(pk=event_id).update(
        starts_at=timezone.now() - timedelta(hours=3), ends_at=timezone.now() - timedelta(hours=1)
    )
    assert admin_api.post(f"/registrations/{gus}/no-show", {}).body["no_show"] is True
    assert globex_api.post(f"/registrations/{gus}/survey", {"fit": 4}).body["error"]["code"] == "conflict"
    answer = acme_api.post(f"/registrations/{carla}/survey", {"fit": 5, "comment": "As promised"})
    assert answer.status == 201 and answer.body["fit"] == 5
    assert acme_api.post(f"/registrations/{carla}/survey", {"fit": 5}).body["error"]["code"] == "duplicate"
    dashboard = admin_api.get(f"/events/{event_id}/dashboard").body
    assert (dashboard["attendance_rate"], dashboard["fit_score"], dashboard["fit_responses"]) == (0.5, 5.0, 1)
    past = acme_api.get("/events", when="past").body
    assert [e["id"] for e in past["items"]] == [event_id]


def test_update_and_cancel(world: World, admin_api: Api, acme_api: Api) -> None:
    event_id = admin_api.post("/events", community()).body["id"]
    assert acme_api.patch(f"/events/{event_id}", {"title": "Mine now"}).status == 403
    changed = admin_api.patch(f"/events/{event_id}", {"place": "Paris office", "capacity": None})
    assert changed.status == 200 and changed.body["place"] == "Paris office" and changed.body["capacity"] is None
    assert changed.body["sequence"] == 1
    bad = admin_api.patch(f"/events/{event_id}", {"frame": "commercial"})
    assert bad.status == 422 and "brief_offer" in bad.body["error"]["fields"]
    cancelled = admin_api.post(f"/events/{event_id}/cancel", {"reason": "Room flooded"})
    assert cancelled.body["cancelled_at"] is not None
    assert admin_api.post(f"/events/{event_id}/cancel", {}).body["error"]["code"] == "conflict"


# --- series, invitations, releasing, the fit report ------------------------------------------


def test_create_a_weekly_series_and_extend_it(admin_api: Api, acme_api: Api) -> None:
    resp = admin_api.post("/events/series", community(capacity=20, recurrence="weekly", count=3))
    assert resp.status == 201, resp.body
    body = resp.body
    assert body["recurrence"] == "weekly" and len(body["occurrences"]) == 3
    starts = [o["starts_at"] for o in body["occurrences"]]
    assert starts == sorted(starts) and {o["series_id"] for o in body["occurrences"]} == {body["id"]}
    assert (
        acme_api.get(f"/events/series/{body['id']}").body["occurrences"][0]["title"] == "Get the most out of Pipelines"
    )
    assert acme_api.post(f"/events/series/{body['id']}/extend", {"until": body["horizon"]}).status == 403
    from datetime import date

    later = (date.fromisoformat(body["horizon"]) + timedelta(days=14)).isoformat()
    extended = admin_api.post(f"/events/series/{body['id']}/extend", {"until": later})
    assert extended.status == 200 and len(extended.body["occurrences"]) == 5 and extended.body["horizon"] == later
    same = admin_api.post(f"/events/series/{body['id']}/extend", {"until": later})
    assert same.status == 422 and "until" in same.body["error"]["fields"]


def test_bad_series_answer_per_field_and_store_nothing(admin_api: Api, acme_api: Api) -> None:
    resp = admin_api.post("/events/series", community(recurrence="weekly"))
    assert resp.status == 422 and "count" in resp.body["error"]["fields"]
    resp = admin_api.post("/events/series", community(recurrence="monthly", until="2001-01-01"))
    assert resp.status == 422 and "until" in resp.body["error"]["fields"]
    resp = admin_api.post("/events/series", community(recurrence="custom", frame="commercial"))
    assert resp.status == 422 and "dates" in resp.body["error"]["fields"]
    assert acme_api.post("/events/series", community(recurrence="weekly", count=2)).status == 403
    assert not Event.objects.exists()
    assert admin_api.get("/events/series/999").status == 404


def test_invite_by_email_and_handle(
    admin_api: Api, acme_api: Api, world: World, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    event_id = admin_api.post("/events", community(capacity=10)).body["id"]
    path = f"/events/{event_id}/invitations"
    with django_capture_on_commit_callbacks(execute=True):
        resp = admin_api.post(path, {"emails": ["gus@globex.example"], "handles": [f"@{world.acme_member.handle}"]})
    assert resp.status == 201, resp.body
    assert sorted(p["name"] for p in resp.body["invited"]) == ["Carla Acme", "Gus Globex"]
    assert len(mail.outbox) == 2 and mail.outbox[0].attachments[0][0] == "event.ics"
    again = admin_api.post(path, {"emails": ["gus@globex.example"]})
    assert again.body["invited"] == [] and [p["name"] for p in again.body["already_invited"]] == ["Gus Globex"]
    unknown = admin_api.post(path, {"emails": ["nobody@nowhere.example"]})
    assert unknown.status == 422 and "nobody@nowhere.example" in unknown.body["error"]["message"]
    assert admin_api.post(path, {}).status == 422
    assert acme_api.post(path, {"emails": ["gus@globex.example"]}).status == 403


def test_release_a_held_event(admin_api: Api, acme_api: Api) -> None:
    previous = charter.set_policy(lambda text: CharterVerdict(state=CheckState.HELD, score=0.9))
    try:
        event_id = admin_api.post("/events", community()).body["id"]
    finally:
        charter.set_policy(previous)
    assert admin_api.get(f"/events/{event_id}").body["check_state"] == "held"
    assert acme_api.post(f"/events/{event_id}/release", {}).status == 404  # held: only organisers see it
    released = admin_api.post(f"/events/{event_id}/release", {})
    assert released.status == 200 and released.body["check_state"] == "ok"
    assert admin_api.post(f"/events/{event_id}/release", {}).body["error"]["code"] == "conflict"
    assert acme_api.post(f"/events/{event_id}/release", {}).status == 403


def test_fit_report_is_for_staff(admin_api: Api, acme_api: Api, world: World) -> None:
    from convenor.events.services import checkin, registration_create, survey_submit
    from convenor.events.tests.conftest import make_event

    start = timezone.now() - timedelta(days=2)
    event = make_event(world, starts_at=start, ends_at=start + timedelta(hours=2))
    reg = registration_create(event=event, member=world.acme_member, intent="buyer", acknowledged=True, now=start)
    checkin(registration=reg, now=start)
    survey_submit(registration=reg, member=world.acme_member, fit=2, comment="A pitch")
    resp = admin_api.get("/events/report")
    assert resp.status == 200
    row = resp.body["events"][0]
    assert (row["event_id"], row["buyers"], row["fit_score"], row["fit_responses"]) == (event.pk, 1, 2.0, 1)
    assert "community_mostly_buyers" in row["flags"] and resp.body["mismatches"] == [event.pk]
    assert resp.body["organisers"][0]["member"]["name"] == "Ada Admin"
    assert acme_api.get("/events/report").status == 403
