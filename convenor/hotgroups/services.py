"""Writes for hot groups: storing suggestions, convening a group (space, recurring
gatherings, invitations, facilitator), answering invitations, leaving, adding and removing.

Each function validates first (ApplicationError naming the field or the rule), writes in
one transaction, records joining in the activity log (``joined_group``, place
``("group", id)``), and sends notifications and emails after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.core.audit import audit_log
from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.core.models import NotificationPrefs, User
from convenor.core.notify import Note, notify
from convenor.events import services as event_services
from convenor.events.models import Event, Intent, Recurrence, Registration, RegistrationState
from convenor.hotgroups import suggest as suggesting
from convenor.hotgroups.models import (
    LIVE_STATES,
    Group,
    GroupMember,
    GroupMemberState,
    Suggestion,
    SuggestionMember,
    SuggestionStatus,
    Topic,
)
from convenor.hotgroups.profiles import require_model, topic_for_text
from convenor.people.models import Member, Role
from convenor.people.selectors import accounts_of
from convenor.spaces import services as space_services
from convenor.spaces.models import Frame, MembershipState, SpaceMembership, Visibility

PLACE = "group"
MAX_NAME = 120
MIN_GATHERINGS, MAX_GATHERINGS = 2, 52
CADENCES = (Recurrence.WEEKLY, Recurrence.MONTHLY)
DEFAULT_PLACE = "Online: the link is shared in the group's space"


def group_url(group: Group) -> str:
    return f"/hotgroups/groups/{group.pk}/"


# --- suggestions ----------------------------------------------------------------------------


@dataclass
class Suggested:
    """What a suggest run stored, and the interests it skipped with the reason."""

    suggestions: list[Suggestion]
    skipped: dict[str, str]


def _store(proposal: suggesting.Proposal, by: Member | None) -> Suggestion:
    s = Suggestion.objects.create(
        topic=proposal.topic,
        score=proposal.score,
        explanation=proposal.explanation,
        details=proposal.details,
        created_by=by,
    )
    SuggestionMember.objects.bulk_create(
        [
            SuggestionMember(
                suggestion=s,
                member_id=c.member_id,
                role=c.role,
                organization_id=c.org_id,
                share=c.share,
                ratio=c.ratio,
                connector=c.connector,
            )
            for c in proposal.members
        ]
    )
    return s


def suggestions_create(
    *,
    interest: str = "",
    topic: Topic | None = None,
    size: int = suggesting.DEFAULT_SIZE,
    limit: int = 3,
    by: Member | None = None,
) -> Suggested:
    """Propose and store up to `limit` groups of `size`: for one interest (given in words,
    or as a topic), or across every topic (the best groups first, at most one per topic
    per round) when none is given.

    Raises CONFLICT when the map or the profiles were never built, VALIDATION naming the
    rule that cannot be met (for all topics: when no topic allows a single group).
    """
    suggesting.check_size(size, limit)
    suggesting.require_map()
    model = require_model()
    if topic is None and interest.strip():
        topic = topic_for_text(interest, model)
    if topic is not None:
        proposals = suggesting.propose(topic, size=size, limit=limit)
        with transaction.atomic():
            return Suggested([_store(p, by) for p in proposals], {})
    skipped: dict[str, str] = {}
    found: list[suggesting.Proposal] = []
    topics = list(Topic.objects.filter(model=model).order_by("-holders", "index"))
    for t in topics:
        if len(found) >= limit:
            break
        try:
            found.extend(suggesting.propose(t, size=size, limit=1))
        except ApplicationError as err:
            skipped[t.label] = err.message
    if not found:
        reasons = "; ".join(f"{k}: {v}" for k, v in list(skipped.items())[:5])
        raise invalid(f"No interest allows a group of {size} that keeps every rule ({reasons})", interest="none fits")
    found.sort(key=lambda p: -p.score)
    with transaction.atomic():
        return Suggested([_store(p, by) for p in found[:limit]], skipped)


def suggestion_dismiss(*, suggestion: Suggestion, actor: User | None = None) -> Suggestion:
    if suggestion.status != SuggestionStatus.OPEN:
        raise ApplicationError(ErrorCode.CONFLICT, f"This suggestion is already {suggestion.status}")
    suggestion.status = SuggestionStatus.DISMISSED
    suggestion.save(update_fields=["status"])
    audit_log(actor=actor, action="convenor.hotgroup.suggestion_dismissed", obj=suggestion)
    return suggestion


# --- convening ------------------------------------------------------------------------------


def _wants_email(member: Member) -> bool:
    if not member.email:
        return False
    if member.user_id is None:
        return True
    return not NotificationPrefs.objects.filter(user_id=member.user_id, email_each=False).exists()


def _email_invitations(group_id: int, member_ids: list[int], by_name: str) -> None:
    """Email each invitee the group page where they accept or decline (after the commit)."""

    def send() -> None:
        group = Group.objects.select_related("series").get(pk=group_id)
        first = (
            Event.objects.filter(series=group.series, cancelled_at__isnull=True).order_by("starts_at").first()
            if group.series_id
            else None
        )
        when = f"The first gathering is on {first.starts_at:%A %d %B %Y at %H:%M} UTC. " if first else ""
        for member in Member.objects.filter(pk__in=member_ids):
            if not _wants_email(member):
                continue
            assert member.email is not None
            EmailMessage(
                subject=f"[{settings.SITE_NAME}] {by_name} invites you to the group “{group.name}”",
                body=(
                    f"{by_name} is convening a small group of people from across the community who share an "
                    f"interest in {group.topic_label}: {group.name}, meeting {group.cadence}. {when}\n\n"
                    f"Accept or decline here: {settings.CONVENOR_BASE_URL}{group_url(group)}\n"
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[member.email],
            ).send(fail_silently=True)

    transaction.on_commit(send)


def _tell(members: Sequence[Member], group: Group, *, kind: str, title: str, key: str, by: Member) -> None:
    notify(
        accounts_of(members),
        Note(
            kind=kind,
            title=title,
            url=group_url(group),
            key=key,
            actor_name=by.name,
            place_kind=PLACE,
            place_id=group.pk,
        ),
    )


def _is_employee(member: Member) -> bool:
    return member.role == Role.EMPLOYEE or (member.user is not None and bool(member.user.staff_role))


def _check_invitees(members: Sequence[Member], extra: Sequence[Member] = ()) -> None:
    """Nobody who opted out of contact; nobody from a competitor of someone else in the
    group unless both opted in to meeting competitors."""
    opted_out = [m.name for m in members if not m.consent_to_contact]
    if opted_out:
        raise invalid(
            f"{', '.join(opted_out)} opted out of being contacted and cannot be invited",
            members="opted out of contact",
        )
    everyone = [*members, *extra]
    people = suggesting.candidates_of([m.pk for m in everyone], topic=None)
    rules = suggesting.Rules(competing=suggesting.competing_orgs(), connected=set())
    new = {m.pk for m in members}
    for i, a in enumerate(people):
        for b in people[i + 1 :]:
            if (a.member_id in new or b.member_id in new) and rules.conflict(a, b):
                raise invalid(
                    f"{a.name} ({a.org_name}) and {b.name} ({b.org_name}) work for competing organisations "
                    "and have not both agreed to meet competitors",
                    members="competing organisations",
                )


def group_convene(
    *,
    suggestion: Suggestion,
    name: str,
    facilitator: Member,
    first_at: datetime,
    recurrence: str = Recurrence.MONTHLY,
    interval: int = 1,
    count: int = 6,
    duration_minutes: int = 90,
    place: str = "",
    online_url: str = "",
    by: Member | None = None,
    actor: User | None = None,
    now: datetime | None = None,
) -> Group:
    """Convene a suggested group in one step: its space (community frame, visible to the
    group), a recurring series of gatherings in it, the facilitating employee (who hosts
    and moderates), and invitations (a notification and an email) that each person accepts
    or declines on the group page.

    Raises VALIDATION per field (name, facilitator, first_at, recurrence, interval, count,
    duration) or for invitees who opted out or compete; CONFLICT when the suggestion is not
    open. Nothing is stored on error.
    """
    now = now or timezone.now()
    fields: dict[str, list[str]] = {}
    name = name.strip()
    if not name:
        fields["name"] = ["This field is required"]
    elif len(name) > MAX_NAME:
        fields["name"] = [f"At most {MAX_NAME} characters"]
    if not _is_employee(facilitator):
        fields["facilitator"] = [f"{facilitator.name} is not an employee: a group is facilitated by one of ours"]
    if timezone.is_naive(first_at):
        fields["first_at"] = ["Give the time with its UTC offset"]
    elif first_at <= now:
        fields["first_at"] = ["The first gathering must be in the future"]
    if recurrence not in CADENCES:
        fields["recurrence"] = ["Choose weekly or monthly"]
    if not 1 <= interval <= 12:
        fields["interval"] = ["From 1 to 12"]
    if not MIN_GATHERINGS <= count <= MAX_GATHERINGS:
        fields["count"] = [f"From {MIN_GATHERINGS} to {MAX_GATHERINGS} gatherings"]
    if not 15 <= duration_minutes <= 8 * 60:
        fields["duration_minutes"] = ["From 15 minutes to 8 hours"]
    if fields:
        raise ApplicationError(ErrorCode.VALIDATION, "The group could not be convened", fields=fields)
    if suggestion.status != SuggestionStatus.OPEN:
        raise ApplicationError(ErrorCode.CONFLICT, f"This suggestion is already {suggestion.status}")
    if not place.strip() and not online_url.strip():
        # Gatherings need somewhere to happen; the facilitator shares the link in the space.
        place = DEFAULT_PLACE
    people = list(Member.objects.filter(pk__in=suggestion.members.values("member_id")).select_related("user"))
    invitees = [m for m in people if m.pk != facilitator.pk]
    _check_invitees(invitees, [facilitator])
    topic = suggestion.topic
    unit = "week" if recurrence == Recurrence.WEEKLY else "month"
    cadence = f"every {unit}" if interval == 1 else f"every {interval} {unit}s"
    by = by or facilitator
    with transaction.atomic():
        group = Group.objects.create(
            name=name,
            topic=topic,
            topic_label=topic.interest_name or topic.label,
            topic_terms=list(topic.terms),
            suggestion=suggestion,
            facilitator=facilitator,
            cadence=cadence,
            created_by=by,
            baseline=_baseline([m.pk for m in people]),
        )
        space = space_services.space_create(
            name=name,
            frame=Frame.COMMUNITY,
            visibility=Visibility.GROUP,
            group_id=group.pk,
            description=f"A hot group on {group.topic_label}, facilitated by {facilitator.name}.",
            creator=facilitator,
            actor=actor,
        )
        series = event_services.series_create(
            recurrence=recurrence,
            interval=interval,
            count=count,
            title=name,
            description=(
                f"A gathering of the hot group {name}: people from across the community who share an interest "
                f"in {group.topic_label} compare notes and help one another."
            ),
            starts_at=first_at,
            ends_at=first_at + timedelta(minutes=duration_minutes),
            frame=Frame.COMMUNITY,
            space=space,
            place=place,
            online_url=online_url,
            hosts=[facilitator],
            creator=facilitator,
            actor=actor,
        )
        group.space, group.series = space, series
        group.save(update_fields=["space", "series"])
        GroupMember.objects.create(
            group=group,
            member=facilitator,
            state=GroupMemberState.ACTIVE,
            facilitator=True,
            responded_at=now,
        )
        _record_join(group, facilitator, now)
        for m in invitees:
            GroupMember.objects.create(group=group, member=m, state=GroupMemberState.INVITED, invited_at=now)
            SpaceMembership.objects.update_or_create(
                space=space, member=m, defaults={"state": MembershipState.INVITED, "invited_by": facilitator}
            )
        _tell(
            invitees,
            group,
            kind="group_invited",
            title=f"{by.name} invites you to the group “{name}” on {group.topic_label}",
            key=f"group-invite:{group.pk}",
            by=by,
        )
        _email_invitations(group.pk, [m.pk for m in invitees], by.name)
        suggestion.status = SuggestionStatus.CONVENED
        suggestion.save(update_fields=["status"])
        audit_log(
            actor=actor,
            action="convenor.hotgroup.convened",
            obj=group,
            summary=f"{name}: {len(invitees)} invited",
            data={"suggestion_id": suggestion.pk},
        )
    return group


def _baseline(member_ids: list[int]) -> dict[str, Any]:
    """Ties among the members and their neighbours on the map when the group was convened."""
    from convenor.graph import selectors as graph

    try:
        if graph.map_built_at() is None:
            return {"member_ids": member_ids}
        pairs = graph.connected_pairs(member_ids)
        around = graph.neighbours(member_ids)
    except NotImplementedError:
        return {"member_ids": member_ids}
    beyond = set().union(*around.values()) - set(member_ids) if around else set()
    return {
        "member_ids": member_ids,
        "pairs": sorted([list(p) for p in pairs]),
        "neighbours": len(beyond),
        "at": timezone.now().isoformat(),
    }


def _record_join(group: Group, member: Member, when: datetime) -> None:
    record(
        actor=member,
        verb=Verb.JOINED_GROUP,
        origin_id=f"group-join:{group.pk}:{member.pk}:{when:%Y%m%d%H%M%S%f}",
        object_kind=PLACE,
        object_id=group.pk,
        place_kind=PLACE,
        place_id=group.pk,
        occurred_at=when,
        data={"topic": group.topic_label},
    )


def _upcoming(group: Group, now: datetime) -> list[Event]:
    if group.series_id is None:
        return []
    return list(Event.objects.filter(series_id=group.series_id, cancelled_at__isnull=True, starts_at__gt=now))


def _membership(group: Group, member: Member) -> GroupMember:
    gm = GroupMember.objects.filter(group=group, member=member).first()
    if gm is None:
        raise ApplicationError(ErrorCode.CONFLICT, f"{member.name} was not invited to this group")
    return gm


def _check_open(group: Group) -> None:
    if group.state != "active":
        raise ApplicationError(ErrorCode.CONFLICT, "This group is closed")


def group_respond(*, group: Group, member: Member, accept: bool, now: datetime | None = None) -> GroupMember:
    """Accept or decline an invitation. Accepting joins the group's space, registers for
    its upcoming gatherings and records ``joined_group``. Raises CONFLICT when there is no
    open invitation (already a member, left or removed)."""
    now = now or timezone.now()
    _check_open(group)
    gm = _membership(group, member)
    allowed = (GroupMemberState.INVITED, GroupMemberState.DECLINED) if accept else (GroupMemberState.INVITED,)
    if gm.state not in allowed:
        raise ApplicationError(
            ErrorCode.CONFLICT, f"There is no open invitation: you are {gm.get_state_display().lower()}"
        )
    with transaction.atomic():
        gm.state = GroupMemberState.ACTIVE if accept else GroupMemberState.DECLINED
        gm.responded_at = now
        gm.save(update_fields=["state", "responded_at"])
        if group.space is not None:
            if accept:
                space_services.space_join(space=group.space, member=member)
            else:
                SpaceMembership.objects.filter(space=group.space, member=member).update(
                    state=MembershipState.LEFT, left_at=now
                )
        if accept:
            _record_join(group, member, now)
            for event in _upcoming(group, now):
                if (
                    Registration.objects.filter(event=event, member=member)
                    .exclude(state=RegistrationState.CANCELLED)
                    .exists()
                ):
                    continue
                event_services.registration_create(event=event, member=member, intent=Intent.USER, now=now)
    return gm


def _drop(group: Group, member: Member, now: datetime) -> None:
    for reg in Registration.objects.filter(
        event__in=_upcoming(group, now),
        member=member,
        state__in=[RegistrationState.CONFIRMED, RegistrationState.WAITLISTED],
    ):
        event_services.registration_cancel(registration=reg)


def group_leave(*, group: Group, member: Member, now: datetime | None = None) -> GroupMember:
    """Leave a group (or drop an invitation): out of its space, registrations for upcoming
    gatherings cancelled. Raises CONFLICT for someone not in it, and for the facilitator
    (hand the group to another employee first)."""
    now = now or timezone.now()
    gm = _membership(group, member)
    if gm.state not in LIVE_STATES:
        raise ApplicationError(ErrorCode.CONFLICT, "You are not in this group")
    if gm.facilitator:
        raise ApplicationError(ErrorCode.CONFLICT, "The facilitator cannot leave; name another facilitator first")
    with transaction.atomic():
        gm.state, gm.responded_at = GroupMemberState.LEFT, now
        gm.save(update_fields=["state", "responded_at"])
        if group.space is not None:
            SpaceMembership.objects.filter(space=group.space, member=member).update(
                state=MembershipState.LEFT, left_at=now
            )
        _drop(group, member, now)
    return gm


def group_add(*, group: Group, member: Member, by: Member, actor: User | None = None) -> GroupMember:
    """The facilitator invites someone more. Raises VALIDATION for someone who opted out of
    contact or competes with a member without both opting in; CONFLICT if already in."""
    _check_open(group)
    gm = GroupMember.objects.filter(group=group, member=member).first()
    if gm is not None and gm.state in LIVE_STATES:
        raise ApplicationError(ErrorCode.CONFLICT, f"{member.name} is already in this group")
    others = list(
        Member.objects.filter(group_memberships__group=group, group_memberships__state__in=LIVE_STATES).exclude(
            pk=member.pk
        )
    )
    _check_invitees([member], others)
    now = timezone.now()
    with transaction.atomic():
        if gm is None:
            gm = GroupMember.objects.create(group=group, member=member, state=GroupMemberState.INVITED, invited_at=now)
        else:
            gm.state, gm.invited_at, gm.responded_at = GroupMemberState.INVITED, now, None
            gm.save(update_fields=["state", "invited_at", "responded_at"])
        if group.space is not None:
            SpaceMembership.objects.update_or_create(
                space=group.space, member=member, defaults={"state": MembershipState.INVITED, "invited_by": by}
            )
        _tell(
            [member],
            group,
            kind="group_invited",
            title=f"{by.name} invites you to the group “{group.name}” on {group.topic_label}",
            key=f"group-invite:{group.pk}:{now:%Y%m%d%H%M%S}",
            by=by,
        )
        _email_invitations(group.pk, [member.pk], by.name)
        audit_log(actor=actor, action="convenor.hotgroup.member_added", obj=group, summary=member.name)
    return gm


def group_remove(*, group: Group, member: Member, actor: User | None = None) -> GroupMember:
    """The facilitator removes someone: out of the space, registrations for upcoming
    gatherings cancelled. Raises CONFLICT for the facilitator or someone not in the group."""
    gm = _membership(group, member)
    if gm.facilitator:
        raise ApplicationError(ErrorCode.CONFLICT, "The facilitator cannot be removed")
    if gm.state not in LIVE_STATES:
        raise ApplicationError(ErrorCode.CONFLICT, f"{member.name} is not in this group")
    now = timezone.now()
    with transaction.atomic():
        gm.state, gm.responded_at = GroupMemberState.REMOVED, now
        gm.save(update_fields=["state", "responded_at"])
        if group.space is not None:
            space_services.space_remove_member(space=group.space, member=member, actor=actor)
        _drop(group, member, now)
        audit_log(actor=actor, action="convenor.hotgroup.member_removed", obj=group, summary=member.name)
    return gm
