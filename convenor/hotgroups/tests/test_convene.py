"""Convening end to end: the space, the gatherings, invitations, answers, leaving, the
facilitator's add and remove, who sees what; the API and the CLI; word of mouth's
estimate."""

from __future__ import annotations

import json
from datetime import timedelta

import numpy as np
import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone

from convenor.activity.models import Activity, Verb
from convenor.cli import main as cli_main
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.models import Notification
from convenor.core.testing import World
from convenor.core.tokens import token_create
from convenor.events.models import Event, Registration, RegistrationState
from convenor.hotgroups import services
from convenor.hotgroups.models import (
    Group,
    GroupMember,
    GroupMemberState,
    Suggestion,
    SuggestionMember,
    Topic,
    TopicModel,
)
from convenor.hotgroups.wom import did
from convenor.people.models import Member, OrgKind, Role
from convenor.people.services import member_create, organization_create
from convenor.spaces.models import MembershipState, SpaceMembership, Visibility

pytestmark = pytest.mark.django_db


def _suggestion(world: World, extra: list[Member] | None = None) -> Suggestion:
    """A stored suggestion of the admin (an employee), Carla (Acme) and a supplier."""
    model = TopicModel.objects.create(blob=b"", n_topics=1, n_terms=1)
    topic = Topic.objects.create(model=model, index=0, label="kafka, streaming, lag", terms=["kafka", "streaming"])
    supplier_org = organization_create(name="Parts Co", kind=OrgKind.SUPPLIER)
    supplier = member_create(
        name="Sam Supplier", email="sam@parts.example", role=Role.SUPPLIER, organization=supplier_org
    )
    people = [world.admin_member, world.acme_member, supplier, *(extra or [])]
    sug = Suggestion.objects.create(topic=topic, score=70.0, explanation="Because.")
    SuggestionMember.objects.bulk_create(
        [SuggestionMember(suggestion=sug, member=m, role=m.role, share=0.5, ratio=3.0) for m in people]
    )
    return sug


def _convene(world: World, sug: Suggestion, **kw: object) -> Group:
    args: dict[str, object] = {
        "suggestion": sug,
        "name": "Kafka circle",
        "facilitator": world.admin_member,
        "first_at": timezone.now() + timedelta(days=7),
        "recurrence": "monthly",
        "count": 4,
    }
    args.update(kw)
    return services.group_convene(**args)  # type: ignore[arg-type]  # a test's loose keywords


def test_convening_creates_space_series_invitations(world: World, django_capture_on_commit_callbacks: object) -> None:
    sug = _suggestion(world)
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]  # pytest-django fixture
        group = _convene(world, sug)
    assert group.space is not None
    assert group.space.visibility == Visibility.GROUP and group.space.group_id == group.pk
    assert group.space.frame == "community"
    events = list(Event.objects.filter(series_id=group.series_id).order_by("starts_at"))
    assert len(events) == 4 and all(e.space_id == group.space_id for e in events)
    assert group.facilitator == world.admin_member
    states = dict(GroupMember.objects.filter(group=group).values_list("member_id", "state"))
    assert states[world.admin_member.pk] == GroupMemberState.ACTIVE
    assert states[world.acme_member.pk] == GroupMemberState.INVITED
    # a notification for Carla (who has an account) and an email for everyone invited
    assert Notification.objects.filter(recipient=world.acme_user, kind="group_invited").exists()
    assert {m.to[0] for m in mail.outbox} >= {"carla@acme.example", "sam@parts.example"}
    sug.refresh_from_db()
    assert sug.status == "convened"
    with pytest.raises(ApplicationError) as err:
        _convene(world, sug)
    assert err.value.code == ErrorCode.CONFLICT
    assert Activity.objects.filter(verb=Verb.JOINED_GROUP, actor=world.admin_member, place_id=group.pk).exists()


def test_accept_decline_leave_add_remove(world: World) -> None:
    sug = _suggestion(world, extra=[world.outsider_member])
    group = _convene(world, sug)
    carla = world.acme_member
    gm = services.group_respond(group=group, member=carla, accept=True)
    assert gm.state == GroupMemberState.ACTIVE
    regs = Registration.objects.filter(
        member=carla, event__series_id=group.series_id, state=RegistrationState.CONFIRMED
    )
    assert regs.count() == 4
    assert SpaceMembership.objects.get(space=group.space, member=carla).state == MembershipState.ACTIVE
    assert Activity.objects.filter(verb=Verb.JOINED_GROUP, actor=carla).count() == 1
    with pytest.raises(ApplicationError):
        services.group_respond(group=group, member=carla, accept=True)
    services.group_respond(group=group, member=world.outsider_member, accept=False)
    assert GroupMember.objects.get(group=group, member=world.outsider_member).state == GroupMemberState.DECLINED
    services.group_leave(group=group, member=carla)
    assert not Registration.objects.filter(member=carla, state=RegistrationState.CONFIRMED).exists()
    with pytest.raises(ApplicationError):
        services.group_leave(group=group, member=world.admin_member)
    # the facilitator adds Gus (Globex competes with Acme, but Carla left) and removes him
    services.group_add(group=group, member=world.globex_member, by=world.admin_member)
    services.group_respond(group=group, member=world.globex_member, accept=True)
    services.group_remove(group=group, member=world.globex_member)
    assert GroupMember.objects.get(group=group, member=world.globex_member).state == GroupMemberState.REMOVED
    assert SpaceMembership.objects.get(space=group.space, member=world.globex_member).state == "removed"


def test_the_facilitator_never_adds_competitors_or_people_who_opted_out(world: World) -> None:
    group = _convene(world, _suggestion(world))
    with pytest.raises(ApplicationError) as err:
        services.group_add(group=group, member=world.globex_member, by=world.admin_member)
    assert "competing organisations" in err.value.message
    Member.objects.filter(pk__in=[world.globex_member.pk, world.acme_member.pk]).update(meets_competitors=True)
    services.group_add(group=group, member=Member.objects.get(pk=world.globex_member.pk), by=world.admin_member)
    quiet = member_create(name="Quiet Q", email="q@x.example", role=Role.CUSTOMER, consent_to_contact=False)
    with pytest.raises(ApplicationError) as err:
        services.group_add(group=group, member=quiet, by=world.admin_member)
    assert "opted out" in err.value.message


def test_convene_validates_every_field(world: World) -> None:
    sug = _suggestion(world)
    with pytest.raises(ApplicationError) as err:
        _convene(
            world,
            sug,
            name=" ",
            facilitator=world.acme_member,
            first_at=timezone.now() - timedelta(days=1),
            recurrence="daily",
            count=1,
        )
    assert set(err.value.fields) >= {"name", "facilitator", "first_at", "recurrence", "count"}
    assert not Event.objects.exists() and not GroupMember.objects.exists()


def test_group_pages_are_seen_by_members_and_staff_only(
    world: World, admin_client: Client, acme_client: Client, globex_client: Client
) -> None:
    group = _convene(world, _suggestion(world))
    url = f"/hotgroups/groups/{group.pk}/"
    assert admin_client.get(url).status_code == 200
    page = acme_client.get(url)
    assert page.status_code == 200 and b"You are invited" in page.content
    assert globex_client.get(url).status_code == 404
    assert globex_client.get(f"/hotgroups/suggestions/{group.suggestion_id}/").status_code == 404
    # Suggestions are for staff: their list, like each one, is not found for anyone else.
    assert globex_client.get("/hotgroups/suggestions/").status_code == 404
    assert acme_client.get("/hotgroups/suggestions/").status_code == 404
    resp = acme_client.post(f"/hotgroups/groups/{group.pk}/accept/")
    assert resp.status_code == 302
    assert GroupMember.objects.get(group=group, member=world.acme_member).state == GroupMemberState.ACTIVE
    assert acme_client.get(f"/hotgroups/groups/{group.pk}/health/").status_code == 200
    assert acme_client.get("/hotgroups/").status_code == 200
    assert admin_client.get("/hotgroups/suggestions/").status_code == 200
    assert admin_client.get(f"/hotgroups/suggestions/{group.suggestion_id}/").status_code == 200
    # the group's gatherings are visible to its people and not to others
    event = Event.objects.filter(series_id=group.series_id).first()
    assert event is not None
    assert acme_client.get(f"/events/{event.pk}/").status_code == 200
    assert globex_client.get(f"/events/{event.pk}/").status_code == 404


def test_api_groups_and_suggestions(world: World) -> None:
    group = _convene(world, _suggestion(world))
    admin = {"Authorization": f"Bearer {token_create(user=world.admin, name='t')[1]}"}
    carla = {"Authorization": f"Bearer {token_create(user=world.acme_user, name='t')[1]}"}
    c = Client()
    r = c.get("/api/v1/hotgroups/suggestions?status=convened", headers=admin)
    assert r.status_code == 200 and r.json()["count"] == 1
    assert r.json()["items"][0]["members"][0]["role"]
    assert c.get("/api/v1/hotgroups/suggestions", headers=carla).status_code == 404
    assert c.get(f"/api/v1/hotgroups/suggestions/{group.suggestion_id}", headers=carla).status_code == 404
    r = c.get(f"/api/v1/hotgroups/groups/{group.pk}", headers=carla)
    assert r.status_code == 200 and len(r.json()["members"]) == 3
    r = c.post(f"/api/v1/hotgroups/groups/{group.pk}/accept", headers=carla)
    assert r.status_code == 200 and r.json()["state"] == "active"
    r = c.post(f"/api/v1/hotgroups/groups/{group.pk}/accept", headers=carla)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    r = c.get(f"/api/v1/hotgroups/groups/{group.pk}/health", headers=admin)
    assert r.status_code == 200 and r.json()["members"] == 2
    r = c.post(
        "/api/v1/hotgroups/suggestions",
        data={"interest": "x", "size": 99},
        content_type="application/json",
        headers=admin,
    )
    assert r.status_code in (409, 422)


def test_cli_suggest_without_a_map_says_build_the_map_first(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli_main(["hotgroups", "suggest", "--interest", "kafka", "--json"])
    assert exit_.value.code == 1
    assert "build the map first: convenor map build" in capsys.readouterr().err


def test_cli_groups_and_health(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    group = _convene(world, _suggestion(world))
    assert cli_main(["hotgroups", "groups", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "Kafka circle" and rows[0]["invited"] == 2
    assert cli_main(["hotgroups", "health", str(group.pk), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["invited"] == 2


def test_difference_in_differences_finds_a_planted_lift_and_no_lift() -> None:
    rng = np.random.default_rng(1)
    before = rng.poisson(1.0, 300).astype(float)
    c_before = rng.poisson(1.0, 300).astype(float)
    lifted = did(before, before + rng.poisson(0.8, 300), c_before, c_before + rng.poisson(0.1, 300))
    assert lifted.ci_low > 0 and 0.5 < lifted.lift < 1.0
    flat = did(before, rng.poisson(1.0, 300).astype(float), c_before, rng.poisson(1.0, 300).astype(float))
    assert flat.ci_low < 0 < flat.ci_high
