"""The permission gate: every decision about who may see or change what is made here.

Views, API endpoints and the CLI fetch user-supplied ids only through the
``*_for_view`` / ``*_for_change`` functions below, never straight from the ORM. Something
the viewer may not see answers "not found" (404), never "forbidden", so that its
existence does not leak. See docs/access.md for the rules in words.

This module knows the domain models by name only inside functions, so `core` stays
importable before the domain apps.
"""

from __future__ import annotations

import datetime
import decimal
import inspect
import operator
import uuid
from typing import TYPE_CHECKING, Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import Exists, OuterRef, Q, QuerySet, signals
from django.db.models.base import ModelState

from convenor.core.errors import ApplicationError, ErrorCode, not_found
from convenor.core.memo import Memo
from convenor.core.models import StaffRole, User

if TYPE_CHECKING:
    from convenor.activity.models import Activity
    from convenor.events.models import Event, Registration
    from convenor.feedback.models import Board, Idea
    from convenor.hotgroups.models import Group, Suggestion
    from convenor.listening.models import BrandAlias, ImportRun, OutsidePost, Source
    from convenor.people.models import Affiliation, Member, MergeSuggestion, Organization, Relationship
    from convenor.spaces.models import Post, Space, Thread

AnyUser = User | AnonymousUser

# Who may create and edit people, organisations and relationships.
PEOPLE_EDITORS = frozenset({StaffRole.ADMIN, StaffRole.COMMUNITY_MANAGER, StaffRole.SALES})
# Who may merge members and decide merge suggestions (it rewrites history).
MERGERS = frozenset({StaffRole.ADMIN, StaffRole.COMMUNITY_MANAGER})
# Who sees and moderates every space, private account spaces included.
SPACE_ADMINS = frozenset({StaffRole.ADMIN, StaffRole.COMMUNITY_MANAGER})
# Who sees and organises every event, held and private ones included.
EVENT_ADMINS = SPACE_ADMINS


def is_authenticated(user: AnyUser) -> bool:
    return bool(user.is_authenticated and user.is_active)


def is_staff(user: AnyUser) -> bool:
    """Any employee with a staff role (admin, community manager, sales, product)."""
    return isinstance(user, User) and user.is_active and bool(user.staff_role)


def has_role(user: AnyUser, roles: frozenset[StaffRole]) -> bool:
    return isinstance(user, User) and user.is_active and user.staff_role in roles


def can_edit_people(user: AnyUser) -> bool:
    return has_role(user, PEOPLE_EDITORS)


def can_merge(user: AnyUser) -> bool:
    return has_role(user, MERGERS)


def require(allowed: bool, what: str = "You may not do this") -> None:
    if not allowed:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, what)


def require_login(user: AnyUser) -> User:
    if not isinstance(user, User) or not is_authenticated(user):
        raise ApplicationError(ErrorCode.NOT_AUTHENTICATED, "Log in first")
    return user


def viewer_member(user: AnyUser) -> Member | None:
    """The member record of a logged-in user, if they have one."""
    from convenor.people.models import Member

    if not isinstance(user, User) or not user.is_authenticated:
        return None
    # A request's user object lives for one request: remember the answer on it, since one
    # page asks several times (a member merged or created mid-request is not a case here).
    cached: Member | None = getattr(user, "_convenor_member", None)
    if cached is None:
        # One plain query (one_row), as Member.objects.filter(user=user).first() makes it:
        # building that ORM query took about a tenth of an uncached search page (bench/web.py).
        # The user is a one-to-one link, so there is at most one row.
        found = one_row("FROM people_member m WHERE m.user_id = %s", [user.pk], (Member, "m"))
        cached = None if found is None else found[0]
        user._convenor_member = cached  # type: ignore[attr-defined]  # a per-request memo
    return cached


def _viewer_org_ids(member: Member) -> QuerySet[Organization]:
    from convenor.people.models import Organization

    return Organization.objects.filter(affiliations__member=member, affiliations__ended_on__isnull=True)


def visible_members(user: AnyUser) -> QuerySet[Member]:
    """The members `user` may see.

    Staff see everyone. A member sees themselves, our employees, their current
    colleagues, and members who chose to be listed in the community directory.
    Anonymous visitors see nobody.
    """
    from convenor.people.models import Affiliation, Member, Role

    if is_staff(user):
        return Member.objects.all()
    me = viewer_member(user)
    if me is None or not is_authenticated(user):
        return Member.objects.none()
    colleague = Affiliation.objects.filter(
        member=OuterRef("pk"), ended_on__isnull=True, organization__in=_viewer_org_ids(me)
    )
    return Member.objects.filter(Q(pk=me.pk) | Q(role=Role.EMPLOYEE) | Q(listed=True) | Exists(colleague))


def visible_organizations(user: AnyUser) -> QuerySet[Organization]:
    """Staff see every organisation; a member sees our company and their own."""
    from convenor.people.models import Organization, OrgKind

    if is_staff(user):
        return Organization.objects.all()
    me = viewer_member(user)
    if me is None or not is_authenticated(user):
        return Organization.objects.none()
    return Organization.objects.filter(Q(kind=OrgKind.OURS) | Q(pk__in=_viewer_org_ids(me)))


def visible_relationships(user: AnyUser) -> QuerySet[Relationship]:
    """Declared lines whose two ends the viewer can both see."""
    from convenor.people.models import Relationship

    if is_staff(user):
        return Relationship.objects.all()
    members = visible_members(user).values("pk")
    orgs = visible_organizations(user).values("pk")
    return Relationship.objects.filter(
        Q(source_member__in=members) | Q(source_org__in=orgs),
        Q(target_member__in=members) | Q(target_org__in=orgs),
    )


def visible_activities(user: AnyUser) -> QuerySet[Activity]:
    """Staff see the whole log; a member sees what they did and what was done to them.

    Spaces, events and groups widen this as they land (a post in a space you can read).
    """
    from convenor.activity.models import Activity, Verb

    if is_staff(user):
        return Activity.objects.all()
    me = viewer_member(user)
    if me is None:
        return Activity.objects.none()
    in_spaces = Q(place_kind="space", place_id__in=visible_spaces(user).values("pk"))
    # Prospecting is commercial follow-up: only staff see it, even at an event one can see.
    in_events = Q(place_kind="event", place_id__in=visible_events(user).values("pk")) & ~Q(verb=Verb.PROSPECTED)
    return Activity.objects.filter(Q(actor=me) | Q(target_member=me) | in_spaces | in_events)


def can_see_email(user: AnyUser, member: Member) -> bool:
    """A member's email address is shown to staff and to the member themselves."""
    if is_staff(user):
        return True
    return isinstance(user, User) and is_authenticated(user) and member.user_id == user.pk


def member_for_view(user: AnyUser, member_id: int) -> Member:
    """The member with `member_id` if `user` may see them; otherwise NOT_FOUND."""
    member = visible_members(user).filter(pk=member_id).first()
    if member is None:
        raise not_found("No such member")
    return member


def member_for_change(user: AnyUser, member_id: int) -> Member:
    """Staff who edit people may change anyone; a member may change their own profile."""
    member = member_for_view(user, member_id)
    me = viewer_member(user)
    require(can_edit_people(user) or (me is not None and me.pk == member.pk), "You may not edit this member")
    return member


def organization_for_view(user: AnyUser, org_id: int) -> Organization:
    org = visible_organizations(user).filter(pk=org_id).first()
    if org is None:
        raise not_found("No such organisation")
    return org


def organization_for_change(user: AnyUser, org_id: int) -> Organization:
    org = organization_for_view(user, org_id)
    require(can_edit_people(user), "Only staff who manage people may edit organisations")
    return org


def relationship_for_view(user: AnyUser, rel_id: int) -> Relationship:
    rel = (
        visible_relationships(user)
        .select_related("source_member", "source_org", "target_member", "target_org")
        .filter(pk=rel_id)
        .first()
    )
    if rel is None:
        raise not_found("No such relationship")
    return rel


def relationship_for_change(user: AnyUser, rel_id: int) -> Relationship:
    rel = relationship_for_view(user, rel_id)
    require(can_edit_people(user), "Only staff who manage people may change relationships")
    return rel


def affiliation_for_change(user: AnyUser, affiliation_id: int) -> Affiliation:
    """An affiliation of a member the viewer may see, for staff who edit people."""
    from convenor.people.models import Affiliation

    aff = (
        Affiliation.objects.filter(pk=affiliation_id, member__in=visible_members(user).values("pk"))
        .select_related("member", "organization")
        .first()
    )
    if aff is None:
        raise not_found("No such affiliation")
    require(can_edit_people(user), "Only staff who manage people may change affiliations")
    return aff


def merge_suggestion_for_change(user: AnyUser, suggestion_id: int) -> MergeSuggestion:
    """A merge suggestion, for staff who may merge. Staff pages are not secret, so 403 first."""
    from convenor.people.models import MergeSuggestion

    require(can_merge(user), "Only admins and community managers may decide merge suggestions")
    sug = MergeSuggestion.objects.filter(pk=suggestion_id).select_related("member_a", "member_b").first()
    if sug is None:
        raise not_found("No such merge suggestion")
    return sug


# --- spaces ---------------------------------------------------------------------------------


def visible_spaces(user: AnyUser) -> QuerySet[Space]:
    """The spaces `user` may read.

    - anyone: public spaces;
    - anyone logged in: members spaces;
    - an account space: the current people of its organisation (unless a moderator removed
      them) and the employees named for it (an active membership); people who leave the
      organisation lose access at once, because it is computed from current affiliations;
    - a group space: its invited and active members;
    - admins and community managers: every space.
    """
    from convenor.people.models import Role
    from convenor.spaces.models import MembershipState, Space, SpaceMembership, Visibility

    if has_role(user, SPACE_ADMINS):
        return Space.objects.all()
    cond = Q(visibility=Visibility.PUBLIC)
    if not is_authenticated(user):
        return Space.objects.filter(cond)
    me = viewer_member(user)
    # One page asks several times (the page, search, the unread badge): keep the built query
    # on the user object like viewer_member does. It is lazy, so memberships and affiliations
    # are read afresh every time it runs; the memo is keyed by what the conditions are built
    # from, and a clone is returned so nobody's evaluated result cache is shared.
    memo_key = (user.pk, is_staff(user), me.pk if me is not None else None, me.role if me is not None else None)
    memo: tuple[object, QuerySet[Space]] | None = getattr(user, "_convenor_visible_spaces", None)
    if memo is not None and memo[0] == memo_key:
        return memo[1].all()
    cond |= Q(visibility=Visibility.MEMBERS)
    if me is not None:
        mine = SpaceMembership.objects.filter(member=me)
        live = mine.filter(state__in=[MembershipState.ACTIVE, MembershipState.INVITED]).values("space")
        removed = mine.filter(state=MembershipState.REMOVED).values("space")
        cond |= Q(visibility=Visibility.ACCOUNT, organization__in=_viewer_org_ids(me)) & ~Q(pk__in=removed)
        if is_staff(user) or me.role == Role.EMPLOYEE:
            cond |= Q(visibility=Visibility.ACCOUNT, pk__in=live)
        cond |= Q(visibility=Visibility.GROUP, pk__in=live)
    spaces = Space.objects.filter(cond)
    user._convenor_visible_spaces = (memo_key, spaces)  # type: ignore[union-attr]  # a per-request memo
    return spaces.all()


# visible_spaces' SQL, compiled once per process for each viewer and each list of columns:
# building and compiling that ORM query took twenty times as long as running it (about 4 ms
# against 0.2 on a busy machine), on every search. Only the SQL is kept, never the rows: it
# is run afresh each time, so memberships and affiliations are read as they are now.
_SPACE_ROWS_SQL: Memo[tuple[object, ...], tuple[str, tuple[Any, ...]]] = Memo(4096)


def visible_space_rows(user: AnyUser, fields: tuple[str, ...], order_by: str) -> list[tuple[Any, ...]]:
    """``visible_spaces(user).order_by(order_by).values_list(*fields)``, as a list: the same
    query, compiled once per process for everything its SQL is built from (the viewer's
    account, staff role and member record)."""
    from django.db import connection

    if has_role(user, SPACE_ADMINS):
        who: tuple[object, ...] = ("space admin",)
    elif not is_authenticated(user):
        who = ("visitor",)
    else:
        me = viewer_member(user)
        who = (user.pk, is_staff(user), me.pk if me is not None else None, me.role if me is not None else None)
    key = (connection.vendor, who, fields, order_by)
    compiled = _SPACE_ROWS_SQL.get(key)
    if compiled is None:
        compiled = visible_spaces(user).order_by(order_by).values_list(*fields).query.sql_with_params()
        _SPACE_ROWS_SQL.put(key, compiled)
    with connection.cursor() as cursor:
        cursor.execute(*compiled)
        return [tuple(row) for row in cursor.fetchall()]


def space_for_view(user: AnyUser, space_id: int) -> Space:
    space = visible_spaces(user).filter(pk=space_id).first()
    if space is None:
        raise not_found("No such space")
    return space


def space_by_slug_for_view(user: AnyUser, slug: str) -> Space:
    space = visible_spaces(user).filter(slug=slug).first()
    if space is None:
        raise not_found("No such space")
    return space


def can_moderate(user: AnyUser, space: Space) -> bool:
    """Admins, community managers, and the space's own moderators."""
    from convenor.spaces.models import SpaceMembership

    if has_role(user, SPACE_ADMINS):
        return True
    me = viewer_member(user)
    if me is None:
        return False
    held = SpaceMembership.objects.filter(space=space, member=me).values_list("role", "state").first()
    return held is not None and moderates(user, role=held[0], state=held[1])


def can_create_spaces(user: AnyUser) -> bool:
    return has_role(user, SPACE_ADMINS)


def shown_q(user: AnyUser, *, prefix: str = "", space: str = "space") -> Q:
    """Which threads (or, with `prefix`/`space`, posts) of readable spaces `user` sees: the
    published ones, and held or rejected ones only when they wrote them or moderate the space."""
    from convenor.spaces.models import PostState

    if has_role(user, SPACE_ADMINS):
        return Q()
    shown = Q(**{f"{prefix}state": PostState.PUBLISHED})
    me = viewer_member(user)
    if me is not None:
        shown |= Q(**{f"{prefix}author": me}) | Q(**{f"{space}__in": _moderated_space_ids(me).values("pk")})
    return shown


def visible_threads(user: AnyUser) -> QuerySet[Thread]:
    from convenor.spaces.models import Thread

    return Thread.objects.filter(shown_q(user), space__in=visible_spaces(user).values("pk"))


def thread_for_view(user: AnyUser, thread_id: int) -> Thread:
    thread = visible_threads(user).select_related("space", "author").filter(pk=thread_id).first()
    if thread is None:
        raise not_found("No such thread")
    return thread


def visible_posts(user: AnyUser) -> QuerySet[Post]:
    from convenor.spaces.models import Post

    return Post.objects.filter(
        shown_q(user, space="thread__space"),
        shown_q(user, prefix="thread__", space="thread__space"),
        thread__space__in=visible_spaces(user).values("pk"),
    )


def post_for_view(user: AnyUser, post_id: int) -> Post:
    post = visible_posts(user).select_related("thread", "thread__space", "author").filter(pk=post_id).first()
    if post is None:
        raise not_found("No such post")
    return post


def post_for_moderation(user: AnyUser, post_id: int) -> Post:
    """A post `user` may decide on (a moderator of its space); NOT_FOUND when they cannot see it."""
    post = post_for_view(user, post_id)
    require(can_moderate(user, post.thread.space), "Only the space's moderators decide on held posts")
    return post


def can_see_leakage_report(user: AnyUser) -> bool:
    return is_staff(user)


def post_for_change(user: AnyUser, post_id: int) -> Post:
    """The author may edit their post; moderators of its space may too."""
    post = post_for_view(user, post_id)
    me = viewer_member(user)
    require(
        (me is not None and post.author_id == me.pk) or can_moderate(user, post.thread.space),
        "Only the author or a moderator may edit this post",
    )
    return post


# --- events ---------------------------------------------------------------------------------


def _event_organiser_q(me: Member) -> Q:
    """Events `me` organises: created, hosts, or owns commercially."""
    from convenor.events.models import EventRole, RoleKind

    hosted = EventRole.objects.filter(member=me, role=RoleKind.HOST).values("event")
    return Q(created_by=me) | Q(commercial_owner=me) | Q(pk__in=hosted)


def visible_events(user: AnyUser) -> QuerySet[Event]:
    """The events `user` may see.

    An event in a space is seen by whoever reads the space (``visible_spaces``). An event
    outside any space is seen by its own visibility: public by anyone, members by anyone
    logged in, account by the organisation's current people and our employees, group by
    its hosts, speakers, registrants and the group's invited and active people. Hosts,
    speakers, registrants and the creator always see it. An event held by the charter
    check is seen only by its organisers (creator, hosts, commercial owner, space
    moderators) and by admins and community managers.
    """
    from convenor.events.models import CheckState, Event, EventRole, Registration, RegistrationState
    from convenor.people.models import Role
    from convenor.spaces.models import Visibility

    if has_role(user, EVENT_ADMINS):
        return Event.objects.all()
    in_space = Q(space__isnull=False, space__in=visible_spaces(user).values("pk"))
    own = Q(visibility=Visibility.PUBLIC)
    me = viewer_member(user) if is_authenticated(user) else None
    involved = Q(pk__in=[])
    organiser = Q(pk__in=[])
    if is_authenticated(user):
        own |= Q(visibility=Visibility.MEMBERS)
    if me is not None:
        own |= Q(visibility=Visibility.ACCOUNT, organization__in=_viewer_org_ids(me))
        if is_staff(user) or me.role == Role.EMPLOYEE:
            own |= Q(visibility=Visibility.ACCOUNT)
        # A group event outside any space is seen by the group's invited and active people.
        own |= Q(visibility=Visibility.GROUP, group_id__in=_live_group_ids(me))
        roles = EventRole.objects.filter(member=me).values("event")
        registered = Registration.objects.filter(member=me).exclude(state=RegistrationState.CANCELLED).values("event")
        involved = Q(created_by=me) | Q(pk__in=roles) | Q(pk__in=registered)
        organiser = _event_organiser_q(me) | Q(space__in=_moderated_space_ids(me))
    readable = in_space | (Q(space__isnull=True) & own) | involved
    return Event.objects.filter((readable & ~Q(check_state=CheckState.HELD)) | organiser)


def _moderated_space_ids(me: Member) -> QuerySet[Space]:
    from convenor.spaces.models import MembershipState, Space, SpaceRole

    return Space.objects.filter(
        memberships__member=me,
        memberships__role=SpaceRole.MODERATOR,
        memberships__state=MembershipState.ACTIVE,
    )


def event_for_view(user: AnyUser, event_id: int) -> Event:
    """The event with `event_id` if `user` may see it; otherwise NOT_FOUND."""
    event = visible_events(user).select_related("space", "organization", "commercial_owner").filter(pk=event_id).first()
    if event is None:
        raise not_found("No such event")
    return event


def can_change_event(user: AnyUser, event: Event) -> bool:
    """Organisers: admins and community managers, the creator, hosts, the commercial owner,
    and moderators of the event's space."""
    if has_role(user, EVENT_ADMINS):
        return True
    me = viewer_member(user)
    if me is None or not is_authenticated(user):
        return False
    from convenor.events.models import Event

    if Event.objects.filter(_event_organiser_q(me), pk=event.pk).exists():
        return True
    return event.space is not None and can_moderate(user, event.space)


def event_for_change(user: AnyUser, event_id: int) -> Event:
    """An event the user may see and organise; 404 if they cannot see it, 403 if they only see it."""
    event = event_for_view(user, event_id)
    require(can_change_event(user, event), "Only the event's organisers may change it")
    return event


def can_create_event(user: AnyUser, *, frame: str, space: Space | None = None) -> bool:
    """Admins and community managers create any event; sales create commercial events;
    a space's moderators create events in their space."""
    from convenor.spaces.models import Frame

    if has_role(user, EVENT_ADMINS):
        return True
    if frame == Frame.COMMERCIAL and has_role(user, frozenset({StaffRole.SALES})):
        return True
    return space is not None and can_moderate(user, space)


def can_release_event(user: AnyUser) -> bool:
    """Admins and community managers release a community event held by the charter check."""
    return has_role(user, EVENT_ADMINS)


def can_checkin(user: AnyUser, event: Event) -> bool:
    """Whoever organises the event checks people in and marks no-shows."""
    return can_change_event(user, event)


def event_audience_includes(member: Member, event: Event) -> bool:
    """Whether `member` belongs to the event's audience (ignoring the charter hold): the
    check that hosts, speakers and registrants must pass. Members without an account
    are judged by the same rules, from their role and current affiliations."""
    from convenor.people.models import Affiliation, Role
    from convenor.spaces.models import MembershipState, SpaceMembership, Visibility

    if member.user is not None:
        if has_role(member.user, EVENT_ADMINS):
            return True
        if event.space_id is not None:
            return visible_spaces(member.user).filter(pk=event.space_id).exists()
    employee = member.role == Role.EMPLOYEE or (member.user is not None and is_staff(member.user))
    if event.space is not None:
        space = event.space
        live = SpaceMembership.objects.filter(
            space=space, member=member, state__in=[MembershipState.ACTIVE, MembershipState.INVITED]
        ).exists()
        if space.visibility in (Visibility.PUBLIC, Visibility.MEMBERS):
            return True
        if space.visibility == Visibility.ACCOUNT:
            at_org = Affiliation.objects.filter(
                member=member, organization=space.organization, ended_on__isnull=True
            ).exists()
            return at_org or live
        return live
    if event.visibility in (Visibility.PUBLIC, Visibility.MEMBERS):
        return True
    if event.visibility == Visibility.ACCOUNT:
        return (
            employee
            or Affiliation.objects.filter(
                member=member, organization=event.organization, ended_on__isnull=True
            ).exists()
        )
    # Group events: the group's invited and active people, and our employees.
    return employee or (event.group_id is not None and event.group_id in set(_live_group_ids(member)))


def registration_for_view(user: AnyUser, registration_id: int) -> Registration:
    """A registration its own member, or an organiser of its event, may see; otherwise NOT_FOUND."""
    from convenor.events.models import Registration

    reg = (
        Registration.objects.select_related("event", "member", "event__space")
        .filter(pk=registration_id, event__in=visible_events(user).values("pk"))
        .first()
    )
    me = viewer_member(user)
    if reg is None or not ((me is not None and reg.member_id == me.pk) or can_change_event(user, reg.event)):
        raise not_found("No such registration")
    return reg


# --- feedback (boards, ideas) ---------------------------------------------------------------

# Who sees every board, changes ideas' statuses, merges duplicates and manages boards.
FEEDBACK_ADMINS = frozenset({StaffRole.ADMIN, StaffRole.COMMUNITY_MANAGER, StaffRole.PRODUCT})


def can_manage_feedback(user: AnyUser) -> bool:
    return has_role(user, FEEDBACK_ADMINS)


def can_see_demand(user: AnyUser) -> bool:
    """The demand view (votes weighed by organisation) is for staff."""
    return is_staff(user)


def require_demand(user: AnyUser) -> User:
    """The staff user allowed to see the demand view; else NOT_FOUND, as for the map and
    listening (NOT_AUTHENTICATED for a visitor, so pages send them to log in)."""
    viewer = require_login(user)
    if not can_see_demand(viewer):
        raise not_found()
    return viewer


def visible_boards(user: AnyUser) -> QuerySet[Board]:
    """The feedback boards `user` may read.

    Public boards: anyone. Members boards: anyone logged in. An account board: the same rule
    as the account's private space (its organisation's current people, unless a moderator
    removed them from the space, and the employees named for it). Admins, community
    managers and product staff: every board.
    """
    from convenor.feedback.models import Board, BoardVisibility
    from convenor.spaces.models import MembershipState, SpaceMembership, Visibility

    if has_role(user, FEEDBACK_ADMINS):
        return Board.objects.all()
    cond = Q(visibility=BoardVisibility.PUBLIC)
    if not is_authenticated(user):
        return Board.objects.filter(cond)
    cond |= Q(visibility=BoardVisibility.MEMBERS)
    me = viewer_member(user)
    if me is not None:
        account_spaces = visible_spaces(user).filter(visibility=Visibility.ACCOUNT).values("organization")
        removed = SpaceMembership.objects.filter(
            member=me, state=MembershipState.REMOVED, space__visibility=Visibility.ACCOUNT
        ).values("space__organization")
        cond |= Q(visibility=BoardVisibility.ACCOUNT) & (
            Q(organization__in=account_spaces)
            | (Q(organization__in=_viewer_org_ids(me)) & ~Q(organization__in=removed))
        )
    return Board.objects.filter(cond)


def board_for_view(user: AnyUser, slug: str) -> Board:
    board = visible_boards(user).filter(slug=slug).first()
    if board is None:
        raise not_found("No such board")
    return board


def board_for_change(user: AnyUser, slug: str) -> Board:
    board = board_for_view(user, slug)
    require(can_manage_feedback(user), "Only product staff, admins and community managers manage boards")
    return board


def visible_ideas(user: AnyUser) -> QuerySet[Idea]:
    """Ideas on boards `user` may read (merged ones included: their page points on)."""
    from convenor.feedback.models import Idea

    if has_role(user, FEEDBACK_ADMINS):
        return Idea.objects.all()
    return Idea.objects.filter(board__in=visible_boards(user).values("pk"))


def idea_for_view(user: AnyUser, idea_id: int) -> Idea:
    idea = visible_ideas(user).select_related("board", "author", "merged_into").filter(pk=idea_id).first()
    if idea is None:
        raise not_found("No such idea")
    return idea


def idea_for_change(user: AnyUser, idea_id: int) -> Idea:
    """An idea whose status may be changed or which may be merged: feedback admins only."""
    idea = idea_for_view(user, idea_id)
    require(can_manage_feedback(user), "Only product staff, admins and community managers change ideas")
    return idea


def member_sees_board(member: Member, board: Board) -> bool:
    """Whether `member` (with or without an account) may read `board`, judged like visible_boards."""
    from convenor.feedback.models import BoardVisibility

    if member.user is not None:
        return visible_boards(member.user).filter(pk=board.pk).exists()
    if board.visibility != BoardVisibility.ACCOUNT:
        return board.visibility == BoardVisibility.PUBLIC
    return board.organization_id is not None and _viewer_org_ids(member).filter(pk=board.organization_id).exists()


# --- hot groups (convenor/hotgroups) ---------------------------------------------------------


def can_see_suggestions(user: AnyUser) -> bool:
    """Suggested groups name people and their standing on the map: staff only."""
    return is_staff(user)


def can_convene(user: AnyUser) -> bool:
    """Admins and community managers convene groups and refresh interest profiles."""
    return has_role(user, SPACE_ADMINS)


def suggestion_for_view(user: AnyUser, suggestion_id: int) -> Suggestion:
    """A suggestion, for staff; anyone else is told it does not exist."""
    from convenor.hotgroups.models import Suggestion

    sug = (
        Suggestion.objects.select_related("topic").filter(pk=suggestion_id).first()
        if can_see_suggestions(user)
        else None
    )
    if sug is None:
        raise not_found("No such suggestion")
    return sug


def visible_groups(user: AnyUser) -> QuerySet[Group]:
    """Staff see every group; a member sees the groups they are invited to or belong to."""
    from convenor.hotgroups.models import LIVE_STATES, Group

    if is_staff(user):
        return Group.objects.all()
    me = viewer_member(user) if is_authenticated(user) else None
    if me is None:
        return Group.objects.none()
    return Group.objects.filter(
        Q(facilitator=me) | Q(memberships__member=me, memberships__state__in=LIVE_STATES)
    ).distinct()


def _live_group_ids(member: Member) -> list[int]:
    """The groups `member` is invited to or in (hot groups)."""
    from convenor.hotgroups.models import LIVE_STATES, GroupMember

    return list(GroupMember.objects.filter(member=member, state__in=LIVE_STATES).values_list("group_id", flat=True))


def group_for_view(user: AnyUser, group_id: int) -> Group:
    group = visible_groups(user).select_related("facilitator", "space", "series", "topic").filter(pk=group_id).first()
    if group is None:
        raise not_found("No such group")
    return group


def can_facilitate(user: AnyUser, group: Group) -> bool:
    """The group's facilitator, and admins and community managers."""
    if can_convene(user):
        return True
    me = viewer_member(user) if is_authenticated(user) else None
    return me is not None and group.facilitator_id == me.pk


def group_for_change(user: AnyUser, group_id: int) -> Group:
    """A group the user may see and facilitate; 404 if unseen, 403 if only seen."""
    group = group_for_view(user, group_id)
    require(can_facilitate(user, group), "Only the group's facilitator may change its members")
    return group


def board_id_for_view(user: AnyUser, board_id: int) -> Board:
    board = visible_boards(user).filter(pk=board_id).first()
    if board is None:
        raise not_found("No such board")
    return board


# --- spaces: what anyone may read (the thread and space pages' short way) --------------------


def public_thread_for_view(thread_id: int) -> Thread | None:
    """The thread, when it is a published thread of a public space: anyone may read it (the
    first rule of visible_spaces, and shown_q shows published threads to all), so no viewer's
    conditions need building. None otherwise: ask thread_for_view."""
    from convenor.spaces.models import PostState, Thread, Visibility

    return (
        Thread.objects.select_related("space", "author")
        .filter(pk=thread_id, state=PostState.PUBLISHED, space__visibility=Visibility.PUBLIC)
        .first()
    )


def public_space_for_view(slug: str) -> Space | None:
    """The space, when it is public (anyone may read it); None otherwise: ask space_by_slug_for_view."""
    from convenor.spaces.models import Space, Visibility

    return Space.objects.filter(slug=slug, visibility=Visibility.PUBLIC).first()


# --- the same, with one plain query (the logged-in pages' short way) ---------------------------
# public_thread_for_view and public_space_for_view through the ORM cost more to build and
# compile than to run, on every view of a page. These read the same rows with SQL written
# once, and make the same model instances (the ORM's own converters turn the columns into
# values), for the same rule: published threads of public spaces, public spaces.
# The state and visibility are written in the SQL, not bound: SQLite prepares a statement
# again on each run when a bound value might choose a partial index (spaces_space has one
# for visibility = 'account'), and preparing the join cost four times as much as running it.
# (PostState.PUBLISHED and Visibility.PUBLIC: this module is imported before their app.)
_PUBLIC_THREAD_WHERE = "WHERE t.id = %s AND t.state = 'published' AND s.visibility = 'public'"


def _row_reader(
    model: type[Any], alias: str, connection: Any = None
) -> tuple[str, list[str], list[tuple[Any, list[Any]]]]:
    """The columns of `model` as `alias`.col, their attribute names, and for each the
    converters the ORM applies to what the database returns (per connection: vendors differ;
    `connection`: the default one)."""
    if connection is None:
        from django.db import connection

    memo_key = (model, alias, connection.vendor)
    hit = _ROW_READERS.get(memo_key)
    if hit is not None:
        return hit
    fields = model._meta.concrete_fields
    qn = connection.ops.quote_name
    # On SQLite, a date or time column is read as `+column`: the same text, but the driver
    # (which Django opens with PARSE_DECLTYPES) no longer parses it into a datetime on every
    # read. The ORM's converters below parse it, and only for a row not read lately
    # (_CONVERTED): the same few thread, space and account rows are read on every page.
    plus = connection.vendor == "sqlite"
    columns = ", ".join(
        f"{'+' if plus and f.get_internal_type() in _PARSED else ''}{alias}.{qn(f.column)}" for f in fields
    )
    converters = []
    for f in fields:
        col = f.get_col(alias)
        converters.append((col, connection.ops.get_db_converters(col) + col.get_db_converters(connection)))
    reader = (columns, [f.attname for f in fields], converters)
    _ROW_READERS[memo_key] = reader
    return reader


# The fields whose columns Django's SQLite connection parses on reading (by declared type).
_PARSED = frozenset({"DateTimeField", "DateField", "TimeField"})
_ROW_READERS: dict[tuple[object, str, str], tuple[str, list[str], list[tuple[Any, list[Any]]]]] = {}


def _instances(row: tuple[Any, ...], *parts: tuple[type[Any], str]) -> list[Any]:
    """The model instances a row of _row_reader columns holds, one per (model, alias), in order."""
    from django.db import DEFAULT_DB_ALIAS, connections

    # The connection itself, not django.db.connection: each attribute the converters read
    # through that proxy is a look-up of this thread's connection.
    connection = connections[DEFAULT_DB_ALIAS]
    vendor = connection.vendor
    out = []
    start = 0
    for model, alias in parts:
        _, names, converters = _row_reader(model, alias, connection)
        raw = row[start : start + len(names)]
        start += len(names)
        memo_key: tuple[Any, ...] | None = (model, alias, vendor, raw)
        try:
            values = _CONVERTED.get(memo_key)  # type: ignore[arg-type]  # not None here
        except TypeError:  # a value that cannot be a key (a memoryview): not remembered
            memo_key, values = None, None
        if values is None:
            converted = []
            for value, (col, funcs) in zip(raw, converters, strict=True):
                for func in funcs:
                    value = func(value, col, connection)
                converted.append(value)
            values = tuple(converted)
            if memo_key is not None and all(type(v) in _IMMUTABLE for v in values):
                _CONVERTED.put(memo_key, values)
        out.append(_from_db(model, connection.alias, names, values))
    return out


def _from_db(model: Any, db: str, names: list[str], values: tuple[Any, ...]) -> Any:
    """``model.from_db(db, names, values)`` for every concrete field's value in order: the
    same instance, made without Model.__init__ when nothing can tell the difference (no
    pre_init or post_init receiver, the model's own __init__ and from_db, and each field a
    plain attribute, as _plain_model checks). Its signals and per-field setattr cost half
    of making the three instances a logged-in page reads (its account, thread and space)."""
    if signals.pre_init.receivers or signals.post_init.receivers or not _plain_model(model):
        return model.from_db(db, names, values)
    new = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = db
    attrs = dict(zip(names, values, strict=True))
    attrs["_state"] = state
    new.__dict__ = attrs
    return new


def _plain_model(model: Any) -> bool:
    """Whether Model.__init__ would only store each concrete field's value in the instance's
    dict: the model keeps Django's __init__ and from_db, and each field's class attribute is
    Django's plain deferred attribute (a foreign key's clears a cached object on set, and a
    new instance has none)."""
    found = _PLAIN_MODELS.get(model)
    if found is None:
        from django.db.models import Model
        from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
        from django.db.models.query_utils import DeferredAttribute

        plain = (DeferredAttribute, ForeignKeyDeferredAttribute)
        found = _PLAIN_MODELS[model] = (
            model.__init__ is Model.__init__
            and inspect.getattr_static(model, "from_db") is inspect.getattr_static(Model, "from_db")
            and all(type(inspect.getattr_static(model, f.attname, None)) in plain for f in model._meta.concrete_fields)
        )
    return found


_PLAIN_MODELS: dict[Any, bool] = {}


# The values the converters made of each row read lately (the same few thread, space and
# account rows are read on every page: parsing their times cost more than reading them).
# Only rows of immutable values are remembered (no JSON field's dict is shared), and each
# instance gets its own dict of them.
_CONVERTED: Memo[tuple[Any, ...], tuple[Any, ...]] = Memo(4096)
_IMMUTABLE = frozenset(
    {str, int, float, bool, type(None), datetime.datetime, datetime.date, decimal.Decimal, uuid.UUID}
)


def field_values(obj: Any) -> tuple[Any, ...]:
    """The values of every concrete field of the model instance `obj`, in the fields' order
    (a page cache key's part: what a kept page shows of its thread or space)."""
    model = type(obj)
    getter = _FIELD_GETTERS.get(model)
    if getter is None:
        getter = _FIELD_GETTERS[model] = operator.attrgetter(*(f.attname for f in model._meta.concrete_fields))
    values = getter(obj)
    # Of one name, an attrgetter gives the value itself.
    return values if len(model._meta.concrete_fields) > 1 else (values,)


_FIELD_GETTERS: dict[type[Any], Any] = {}


def row_columns(*parts: tuple[type[Any], str]) -> str:
    """The columns one_row selects for `parts`, for a query that reads them beside others."""
    from django.db import connection

    memo_key = (parts, connection.vendor)
    hit = _ROW_COLUMNS.get(memo_key)
    if hit is None:
        hit = _ROW_COLUMNS[memo_key] = ", ".join(_row_reader(model, alias)[0] for model, alias in parts)
    return hit


_ROW_COLUMNS: dict[tuple[object, str], str] = {}


def row_instances(row: tuple[Any, ...], *parts: tuple[type[Any], str]) -> list[Any]:
    """The model instances of `row`, the values of row_columns(*parts) in turn."""
    return _instances(row, *parts)


def one_row(rest: str, params: list[Any], *parts: tuple[type[Any], str]) -> list[Any] | None:
    """The model instances of the first row of ``SELECT <every column of parts> <rest>``, one
    per (model, alias) in `parts`, as the ORM would make them; None when there is no row.
    For the few reads on every page whose ORM query building cost more than running them."""
    from convenor.core import sql

    columns = row_columns(*parts)
    row = sql.fetch(f"SELECT {columns} {rest}", params, one=True)  # our own column names; values are parameters
    return None if row is None else _instances(tuple(row), *parts)


def with_space(thread: Thread, space: Space) -> None:
    """``thread.space = space`` for the space read with the thread (its id the thread's
    ``space_id``): cached where the descriptor caches it, without its checks of the value
    and the databases (a tenth of making the two instances)."""
    from convenor.spaces.models import Thread

    Thread._meta.get_field("space").set_cached_value(thread, space)


def public_thread_for_view_sql(thread_id: int) -> Thread | None:
    """public_thread_for_view with one plain query: the thread (its space loaded) when it is
    a published thread of a public space, else None. Its author is not loaded: the thread
    page shows only the posts' authors (a `thread.author` would be read on first use)."""
    from convenor.spaces.models import Space, Thread

    found = one_row(
        f"FROM spaces_thread t JOIN spaces_space s ON s.id = t.space_id {_PUBLIC_THREAD_WHERE}",
        [thread_id],
        (Thread, "t"),
        (Space, "s"),
    )
    if found is None:
        return None
    thread, space = found
    with_space(thread, space)
    return thread  # type: ignore[no-any-return]  # a Thread, made by Thread.from_db


def is_public_thread(thread: Thread) -> bool:
    """Whether `thread` (its space loaded), read without the gate, is one that
    public_thread_for_view_sql finds: anybody may read it."""
    return bool(thread.state == "published" and thread.space.visibility == "public")


def is_public_space(space: Space) -> bool:
    """Whether `space`, read without the gate, is one that public_space_for_view_sql finds."""
    return bool(space.visibility == "public")


def public_space_for_view_sql(slug: str) -> Space | None:
    """public_space_for_view with one plain query: the space when it is public, else None."""
    from convenor.spaces.models import Space

    # The visibility written in the SQL, as in _PUBLIC_THREAD_WHERE (a partial index).
    found = one_row("FROM spaces_space s WHERE s.slug = %s AND s.visibility = 'public'", [slug], (Space, "s"))
    return None if found is None else found[0]


def moderates(user: AnyUser, *, role: str | None, state: str | None) -> bool:
    """can_moderate, given the viewer's membership of the space (its role and state, None when
    they have none), read by the caller with whatever else it needs: admins, community
    managers, and the space's active moderators."""
    from convenor.spaces.models import MembershipState, SpaceRole

    if has_role(user, SPACE_ADMINS):
        return True
    return role == SpaceRole.MODERATOR and state == MembershipState.ACTIVE


# --- listening (outside conduits): staff only -----------------------------------------------
# Everyone on staff reads what listening found; admins and community managers add sources,
# upload files, refresh them and edit the brand lexicon. Anyone else gets 404, as if the
# pages did not exist.

LISTENING_EDITORS = frozenset({StaffRole.ADMIN, StaffRole.COMMUNITY_MANAGER})


def can_listen(user: AnyUser) -> bool:
    return is_staff(user)


def can_manage_listening(user: AnyUser) -> bool:
    return has_role(user, LISTENING_EDITORS)


def require_listening(user: AnyUser, *, change: bool = False) -> User:
    """The staff user allowed to read (or, with `change`, manage) listening; else NOT_FOUND
    (or NOT_AUTHENTICATED for a visitor, so pages send them to log in)."""
    viewer = require_login(user)
    if not (can_manage_listening(viewer) if change else can_listen(viewer)):
        raise not_found()
    return viewer


def source_for_view(user: AnyUser, source_id: int) -> Source:
    from convenor.listening.models import Source

    require_listening(user)
    source = Source.objects.filter(pk=source_id).first()
    if source is None:
        raise not_found("No such source")
    return source


def source_for_change(user: AnyUser, source_id: int) -> Source:
    require_listening(user, change=True)
    return source_for_view(user, source_id)


def import_run_for_view(user: AnyUser, run_id: int) -> ImportRun:
    from convenor.listening.models import ImportRun

    require_listening(user)
    run = ImportRun.objects.select_related("source", "actor").filter(pk=run_id).first()
    if run is None:
        raise not_found("No such import run")
    return run


def outside_post_for_view(user: AnyUser, post_id: int) -> OutsidePost:
    """A post imported from an outside conduit: staff only, like the rest of listening."""
    from convenor.listening.models import OutsidePost

    require_listening(user)
    post = OutsidePost.objects.select_related("source", "author").filter(pk=post_id).first()
    if post is None:
        raise not_found("No such outside post")
    return post


def brand_alias_for_change(user: AnyUser, alias_id: int) -> BrandAlias:
    from convenor.listening.models import BrandAlias

    require_listening(user, change=True)
    alias = BrandAlias.objects.select_related("organization").filter(pk=alias_id).first()
    if alias is None:
        raise not_found("No such alias")
    return alias


def brand_for_change(user: AnyUser, org_id: int) -> Organization:
    """Our company or a competitor, whose brand aliases the user may edit."""
    from convenor.people.models import Organization, OrgKind

    require_listening(user, change=True)
    org = Organization.objects.filter(pk=org_id, kind__in=[OrgKind.OURS, OrgKind.COMPETITOR]).first()
    if org is None:
        raise not_found("No such brand")
    return org


# --- the map (convenor/graph) ------------------------------------------------------------------
# The whole map shows everyone's lines, including those drawn from private account spaces,
# direct messages and sales activity, so it is for staff. A member sees the map around
# themselves only (their own lines), with every other end passed through the gate above.


def can_see_map(user: AnyUser) -> bool:
    return is_staff(user)


def require_map(user: AnyUser) -> User:
    """The staff user allowed to see the whole map; else NOT_FOUND (NOT_AUTHENTICATED for a visitor)."""
    viewer = require_login(user)
    if not can_see_map(viewer):
        raise not_found()
    return viewer


def can_see_ego_map(user: AnyUser, *, member: Member | None = None, organization: Organization | None = None) -> bool:
    """Staff see anyone's and any organisation's ego map; a member sees only their own."""
    if can_see_map(user):
        return True
    if member is None:
        return False
    me = viewer_member(user)
    return me is not None and me.pk == member.pk


def visible_map_refs(user: AnyUser, kind: str, ids: list[int]) -> set[int]:
    """Which of these map nodes' ids (members, organisations, spaces, events) the viewer may see.
    Outside conduits are named sources, visible to anyone who sees a map."""
    if can_see_map(user) or kind == "conduit":
        return set(ids)
    qs = {
        "member": visible_members,
        "org": visible_organizations,
        "space": visible_spaces,
        "event": visible_events,
    }.get(kind)
    if qs is None:
        return set()
    return set(qs(user).filter(pk__in=ids).values_list("pk", flat=True))
