"""Writes for spaces, memberships, threads, posts, reactions and follows.

Each function validates, writes in one transaction, records the interaction in the
activity log, and queues notifications (sent after the commit).
"""

from __future__ import annotations

from datetime import datetime

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from convenor.activity.models import Verb
from convenor.activity.services import record
from convenor.charter import policy as charter_policy
from convenor.charter.policy import Verdict as CharterVerdict
from convenor.core.audit import audit_log
from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.core.models import User
from convenor.core.notify import Note, notify
from convenor.people.models import Affiliation, Member, Organization, OrgKind, Role
from convenor.people.selectors import accounts_of
from convenor.spaces import markdown
from convenor.spaces.models import (
    DEFAULT_CHARTER,
    CharterCheck,
    Decision,
    Follow,
    Frame,
    MembershipState,
    Mention,
    ModerationDecision,
    Post,
    PostRevision,
    PostState,
    Reaction,
    ReactionKind,
    Space,
    SpaceMembership,
    SpaceRole,
    Thread,
    ThreadKind,
    Visibility,
)

MAX_POST_CHARS = 20_000
MAX_TITLE_CHARS = 200
MAX_MENTIONS = 20
# A post in a space lands in the activity log with place ("space", id).
PLACE = "space"


def _space_url(space: Space) -> str:
    return reverse("web:space_detail", args=[space.slug])


def _thread_url(thread: Thread, post: Post | None = None) -> str:
    url = reverse("web:thread_detail", args=[thread.pk])
    return f"{url}#post-{post.pk}" if post is not None else url


def _users(members: list[Member]) -> list[User]:
    return accounts_of(members)


def _tell(who: list[User], *, place_id: int, kind: str, title: str, url: str, key: str, actor_name: str = "") -> int:
    """Notify `who` about something in the space `place_id`; once per person and key."""
    return notify(
        who,
        Note(kind=kind, title=title, url=url, key=key, actor_name=actor_name, place_kind=PLACE, place_id=place_id),
    )


# --- spaces ---------------------------------------------------------------------------------


def _free_slug(name: str) -> str:
    base = slugify(name)[:100] or "space"
    slug, n = base, 2
    while Space.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def space_create(
    *,
    name: str,
    frame: str,
    visibility: str = Visibility.MEMBERS,
    description: str = "",
    organization: Organization | None = None,
    group_id: int | None = None,
    charter: str | None = None,
    creator: Member | None = None,
    actor: User | None = None,
) -> Space:
    """Create a space. Community spaces start with the default charter, which forbids selling.

    Raises ApplicationError(VALIDATION) with per-field messages.
    """
    fields: dict[str, list[str]] = {}
    if not name.strip():
        fields["name"] = ["This field is required"]
    elif len(name) > 120:
        fields["name"] = ["At most 120 characters"]
    if frame not in Frame.values:
        fields["frame"] = [f"Choose community or commercial, not {frame!r}"]
    if visibility not in Visibility.values:
        fields["visibility"] = [f"{visibility!r} is not one of: {', '.join(Visibility.values)}"]
    if visibility == Visibility.ACCOUNT:
        if organization is None:
            fields["organization"] = ["An account space belongs to one organisation"]
        elif Space.objects.filter(visibility=Visibility.ACCOUNT, organization=organization).exists():
            fields["organization"] = [f"{organization.name} already has a private space"]
        elif organization.kind == OrgKind.OURS:
            fields["organization"] = ["Account spaces are for customer organisations, not our company"]
    elif organization is not None:
        fields["organization"] = ["Only account spaces belong to an organisation"]
    if visibility == Visibility.GROUP and group_id is None:
        fields["visibility"] = ["Group spaces are made by convening a group"]
    if fields:
        raise ApplicationError(ErrorCode.VALIDATION, "The space could not be created", fields=fields)
    if charter is None:
        charter = DEFAULT_CHARTER if frame == Frame.COMMUNITY else ""
    try:
        with transaction.atomic():
            space = Space.objects.create(
                name=name.strip(),
                slug=_free_slug(name),
                frame=frame,
                visibility=visibility,
                description=description,
                organization=organization,
                group_id=group_id,
                charter=charter,
                created_by=creator,
            )
            if creator is not None:
                SpaceMembership.objects.create(
                    space=space,
                    member=creator,
                    role=SpaceRole.MODERATOR,
                    state=MembershipState.ACTIVE,
                    joined_at=timezone.now(),
                )
            audit_log(actor=actor, action="convenor.space.created", obj=space, summary=space.name)
    except IntegrityError:
        raise ApplicationError(ErrorCode.CONFLICT, "Another space was just created the same way") from None
    return space


def account_space_create(*, organization: Organization, creator: Member, actor: User | None = None) -> Space:
    """Create a customer's private space in one step and invite its current people.

    The creating employee moderates it. People who join the organisation later are added
    (see ``account_space_sync_member``); people who leave lose access at once.
    """
    with transaction.atomic():
        space = space_create(
            name=f"{organization.name} private space",
            frame=Frame.COMMUNITY,
            visibility=Visibility.ACCOUNT,
            organization=organization,
            description=f"A private space for {organization.name}'s people and the employees who work with them.",
            creator=creator,
            actor=actor,
        )
        people = list(
            Member.objects.filter(affiliations__organization=organization, affiliations__ended_on__isnull=True)
            .exclude(pk=creator.pk)
            .select_related("user")
            .distinct()
        )
        SpaceMembership.objects.bulk_create(
            [SpaceMembership(space=space, member=m, state=MembershipState.INVITED, invited_by=creator) for m in people],
            ignore_conflicts=True,
        )
        _tell(
            _users(people),
            place_id=space.pk,
            kind="invited",
            title=f"You are invited to {space.name}",
            url=_space_url(space),
            key=f"space-invite:{space.pk}",
            actor_name=creator.name,
        )
    return space


def account_space_sync_member(affiliation: Affiliation) -> None:
    """Add a person who joined an organisation to its private space (called on save)."""
    if affiliation.ended_on is not None:
        SpaceMembership.objects.filter(
            space__visibility=Visibility.ACCOUNT,
            space__organization_id=affiliation.organization_id,
            member_id=affiliation.member_id,
            state__in=[MembershipState.ACTIVE, MembershipState.INVITED],
        ).update(state=MembershipState.LEFT, left_at=timezone.now())
        return
    space = Space.objects.filter(visibility=Visibility.ACCOUNT, organization_id=affiliation.organization_id).first()
    if space is None:
        return
    membership, created = SpaceMembership.objects.get_or_create(
        space=space,
        member_id=affiliation.member_id,
        defaults={"state": MembershipState.ACTIVE, "joined_at": timezone.now()},
    )
    if not created and membership.state == MembershipState.LEFT:
        membership.state, membership.joined_at, membership.left_at = (
            MembershipState.ACTIVE,
            timezone.now(),
            None,
        )
        membership.save()
    if created or membership.state == MembershipState.ACTIVE:
        member = Member.objects.select_related("user").get(pk=affiliation.member_id)
        _tell(
            _users([member]),
            place_id=space.pk,
            kind="added",
            title=f"You were added to {space.name}",
            url=_space_url(space),
            key=f"space-added:{space.pk}:{affiliation.pk}",
        )


def _membership(space: Space, member: Member) -> SpaceMembership | None:
    return SpaceMembership.objects.filter(space=space, member=member).first()


def space_join(*, space: Space, member: Member) -> SpaceMembership:
    """Join (or accept an invitation to) a space the member can see. Records ``joined_space``."""
    m = _membership(space, member)
    if m is not None and m.state == MembershipState.REMOVED:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "A moderator removed you from this space")
    if space.archived_at is not None:
        raise ApplicationError(ErrorCode.CONFLICT, "This space is archived")
    with transaction.atomic():
        if m is None:
            m = SpaceMembership.objects.create(
                space=space, member=member, state=MembershipState.ACTIVE, joined_at=timezone.now()
            )
        elif m.state != MembershipState.ACTIVE:
            m.state, m.joined_at, m.left_at = MembershipState.ACTIVE, timezone.now(), None
            m.save()
        record(
            actor=member,
            verb=Verb.JOINED_SPACE,
            origin_id=f"space-join:{space.pk}:{member.pk}:{m.joined_at:%Y%m%d%H%M%S%f}",
            place_kind=PLACE,
            place_id=space.pk,
        )
        Follow.objects.get_or_create(member=member, space=space)
    return m


def space_leave(*, space: Space, member: Member) -> SpaceMembership:
    """Leave a space: no more posting there or notifications from it."""
    m = _membership(space, member)
    if m is None or m.state not in (MembershipState.ACTIVE, MembershipState.INVITED):
        raise ApplicationError(ErrorCode.CONFLICT, "You are not a member of this space")
    with transaction.atomic():
        m.state, m.left_at = MembershipState.LEFT, timezone.now()
        m.save()
        Follow.objects.filter(member=member, space=space).delete()
        Follow.objects.filter(member=member, thread__space=space).delete()
        record(
            actor=member,
            verb=Verb.LEFT_SPACE,
            origin_id=f"space-leave:{space.pk}:{member.pk}:{m.left_at:%Y%m%d%H%M%S%f}",
            place_kind=PLACE,
            place_id=space.pk,
        )
    return m


def space_invite(*, space: Space, member: Member, by: Member) -> SpaceMembership:
    """Invite someone; they see an invitation and can join.

    An account space admits only its organisation's people and our employees: inviting
    anyone else would tell them the space exists (the invitation names it), so it is
    refused with VALIDATION.
    """
    if space.visibility == Visibility.ACCOUNT and not _is_staff(member):
        current = Affiliation.objects.filter(
            member=member, organization=space.organization, ended_on__isnull=True
        ).exists()
        if not current:
            raise invalid(
                f"{member.name} is not one of this organisation's people or an employee",
                member="not allowed in this private space",
            )
    m = _membership(space, member)
    if m is not None and m.state == MembershipState.ACTIVE:
        raise ApplicationError(ErrorCode.CONFLICT, f"{member.name} is already a member")
    with transaction.atomic():
        if m is None:
            m = SpaceMembership.objects.create(space=space, member=member, state=MembershipState.INVITED, invited_by=by)
        else:
            m.state, m.invited_by = MembershipState.INVITED, by
            m.save()
        _tell(
            _users([member]),
            place_id=space.pk,
            kind="invited",
            title=f"{by.name} invited you to {space.name}",
            url=_space_url(space),
            key=f"space-invite:{space.pk}",
            actor_name=by.name,
        )
    return m


def space_set_role(*, space: Space, member: Member, role: str, actor: User | None = None) -> SpaceMembership:
    if role not in SpaceRole.values:
        raise invalid(f"{role!r} is not a space role", role="member or moderator")
    m, _ = SpaceMembership.objects.get_or_create(
        space=space, member=member, defaults={"state": MembershipState.ACTIVE, "joined_at": timezone.now()}
    )
    m.role = role
    m.save(update_fields=["role"])
    audit_log(actor=actor, action="convenor.space.role_set", obj=space, summary=f"{member.name}: {role}")
    return m


def space_remove_member(*, space: Space, member: Member, actor: User | None = None) -> SpaceMembership:
    """A moderator removes someone; in an account space this also takes away their access."""
    m, _ = SpaceMembership.objects.get_or_create(space=space, member=member)
    m.state, m.left_at = MembershipState.REMOVED, timezone.now()
    m.save()
    Follow.objects.filter(Q(space=space) | Q(thread__space=space), member=member).delete()
    audit_log(actor=actor, action="convenor.space.member_removed", obj=space, summary=member.name)
    return m


# --- posting --------------------------------------------------------------------------------


def _check_body(body: str) -> str:
    body = body.replace("\r\n", "\n").strip()
    if not body:
        raise invalid("Write something first", body="This field is required")
    if len(body) > MAX_POST_CHARS:
        raise invalid(
            f"A post can be at most {MAX_POST_CHARS:,} characters; this one has {len(body):,}",
            body=f"At most {MAX_POST_CHARS:,} characters",
        )
    return body


def _check_can_post(space: Space, author: Member) -> None:
    if space.archived_at is not None:
        raise ApplicationError(ErrorCode.CONFLICT, "This space is archived; nothing new can be posted")
    m = _membership(space, author)
    if m is not None and m.state == MembershipState.LEFT:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "You left this space; join it again to post")
    if m is not None and m.state == MembershipState.REMOVED:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "A moderator removed you from this space")


def _resolve_mentions(body: str, author: Member, space: Space) -> list[Member]:
    """Members named by @handle who may read the space. Unknown handles are an error."""
    from convenor.core import access

    handles = markdown.mentioned_handles(body)
    if not handles:
        return []
    if len(handles) > MAX_MENTIONS:
        raise invalid(f"At most {MAX_MENTIONS} people can be mentioned in one post", body="too many mentions")
    found = {m.handle: m for m in Member.objects.filter(handle__in=handles).select_related("user")}
    unknown = [h for h in handles if h not in found]
    if unknown:
        raise invalid(
            "Nobody in the community is called " + ", ".join(f"@{h}" for h in unknown),
            body="unknown " + ", ".join(f"@{h}" for h in unknown),
        )
    readers = []
    for m in found.values():
        if m.pk == author.pk:
            continue
        # Mentioning someone who cannot read the space would leak it to them: refuse.
        if m.user is None or not access.visible_spaces(m.user).filter(pk=space.pk).exists():
            raise invalid(f"@{m.handle} cannot read this space", body=f"@{m.handle} cannot read this space")
        readers.append(m)
    return readers


def _render(body: str, mentions: list[Member], author: Member) -> str:
    urls = {m.handle: reverse("web:member_detail", args=[m.pk]) for m in [*mentions, author] if m.handle}
    return markdown.render(body, mention_urls=urls)


def _is_staff(member: Member) -> bool:
    return member.role == Role.EMPLOYEE or bool(member.user and member.user.staff_role)


def _after_post(post: Post, mentions: list[Member], author: Member) -> None:
    thread, space = post.thread, post.thread.space
    Mention.objects.bulk_create([Mention(post=post, member=m) for m in mentions], ignore_conflicts=True)
    for m in mentions:
        record(
            actor=author,
            verb=Verb.MENTIONED,
            origin_id=f"mention:{post.pk}:{m.pk}",
            target_member=m,
            object_kind="post",
            object_id=post.pk,
            place_kind=PLACE,
            place_id=space.pk,
            occurred_at=post.created_at,
        )
    _tell(
        [u for u in _users(mentions) if u.pk != author.user_id],
        place_id=space.pk,
        kind="mention",
        title=f"{author.name} mentioned you in “{thread.title}”",
        url=_thread_url(thread, post),
        key=f"mention:{post.pk}",
        actor_name=author.name,
    )
    Follow.objects.get_or_create(member=author, thread=thread)


def touch(*, thread_id: int | None = None, space_id: int | None = None) -> None:
    """Bump the version of a thread (its page changed) and of a space (its thread list or its
    posts' text changed).

    Every write that changes what a thread or space page shows calls this (or bumps the
    version in its own UPDATE), so the anonymous page cache never serves a stale page.
    """
    if thread_id is not None:
        Thread.objects.filter(pk=thread_id).update(version=F("version") + 1)
    if space_id is not None:
        Space.objects.filter(pk=space_id).update(version=F("version") + 1)


def thread_create(
    *,
    space: Space,
    author: Member,
    title: str,
    body: str,
    kind: str = ThreadKind.DISCUSSION,
    needs_staff: bool = False,
) -> Thread:
    """Start a thread with its opening post. Records ``posted`` (and ``mentioned``).

    Raises VALIDATION for an empty or oversize title or body and unknown @mentions,
    PERMISSION_DENIED when the author left the space, CONFLICT when it is archived.
    """
    title = " ".join(title.split())
    fields: dict[str, list[str]] = {}
    if not title:
        fields["title"] = ["This field is required"]
    elif len(title) > MAX_TITLE_CHARS:
        fields["title"] = [f"At most {MAX_TITLE_CHARS} characters"]
    if kind not in ThreadKind.values:
        fields["kind"] = ["discussion or question"]
    if fields:
        raise ApplicationError(ErrorCode.VALIDATION, "The thread could not be started", fields=fields)
    body = _check_body(body)
    _check_can_post(space, author)
    mentions = _resolve_mentions(body, author, space)
    verdict = _charter(space, f"{title}\n\n{body}")
    state = PostState.HELD if verdict is not None and verdict.held else PostState.PUBLISHED
    now = timezone.now()
    with transaction.atomic():
        thread = Thread.objects.create(
            space=space,
            title=title,
            kind=kind,
            author=author,
            created_at=now,
            last_post_at=now,
            needs_staff=needs_staff,
            state=state,
        )
        post = Post.objects.create(
            thread=thread,
            author=author,
            body=body,
            html=(html := _render(body, mentions, author)),
            text=markdown.plain_text(html),
            by_staff=_is_staff(author),
            created_at=now,
            state=state,
        )
        if verdict is not None and verdict.held:
            _hold(post, verdict)
        else:
            _publish_opening(thread, post, mentions)
    return thread


def _publish_opening(thread: Thread, post: Post, mentions: list[Member]) -> None:
    """What publishing an opening post does: counters, the activity log, notifications."""
    space, author = thread.space, post.author
    Space.objects.filter(pk=space.pk).update(
        thread_count=F("thread_count") + 1, post_count=F("post_count") + 1, version=F("version") + 1
    )
    record(
        actor=author,
        verb=Verb.POSTED,
        origin_id=f"post:{post.pk}",
        object_kind="post",
        object_id=post.pk,
        place_kind=PLACE,
        place_id=space.pk,
        occurred_at=post.created_at,
    )
    _after_post(post, mentions, author)
    followers = Member.objects.filter(follows__space=space).exclude(pk=author.pk).select_related("user")
    _tell(
        _users(list(followers)),
        place_id=space.pk,
        kind="new_thread",
        title=f"New in {space.name}: {thread.title}",
        url=_thread_url(thread),
        key=f"thread:{thread.pk}",
        actor_name=author.name,
    )


def post_reply(*, thread: Thread, author: Member, body: str, parent: Post | None = None) -> Post:
    """Reply in a thread, to its opening post or to `parent`. Records ``replied`` with the
    member replied to (influence runs from them to the replier).

    Raises CONFLICT for a locked thread or one whose opening post is held or rejected, plus
    the errors of thread_create.
    """
    body = _check_body(body)
    if parent is not None and parent.thread_id != thread.pk:
        raise invalid("You can only reply to a post in the same thread", parent="not in this thread")
    # Scored before the lock is taken: the model's few milliseconds need not hold the thread.
    verdict = _charter(thread.space, body)
    with transaction.atomic():
        # Lock the thread row: a lock and a reply racing each other must not both win.
        thread = Thread.objects.select_for_update().select_related("space").get(pk=thread.pk)
        if thread.locked:
            raise ApplicationError(ErrorCode.CONFLICT, "This thread is locked; no new replies")
        if thread.state != PostState.PUBLISHED:
            raise ApplicationError(
                ErrorCode.CONFLICT, "This thread is not published yet: replies open once a moderator publishes it"
            )
        _check_can_post(thread.space, author)
        mentions = _resolve_mentions(body, author, thread.space)
        held = verdict is not None and verdict.held
        post = Post.objects.create(
            thread=thread,
            author=author,
            parent=parent,
            body=body,
            html=(html := _render(body, mentions, author)),
            text=markdown.plain_text(html),
            by_staff=_is_staff(author),
            created_at=timezone.now(),
            state=PostState.HELD if held else PostState.PUBLISHED,
        )
        if verdict is not None and verdict.held:
            _hold(post, verdict)
        else:
            _publish_reply(thread, post, mentions)
    return post


def _publish_reply(thread: Thread, post: Post, mentions: list[Member]) -> None:
    """What publishing a reply does: counters, the activity log (``replied``), notifications."""
    author, parent, now = post.author, post.parent, timezone.now()
    replied_to = parent or Post.objects.filter(thread=thread).order_by("created_at", "pk").first()
    Thread.objects.filter(pk=thread.pk).update(
        reply_count=F("reply_count") + 1,
        staff_reply_count=F("staff_reply_count") + (1 if post.by_staff else 0),
        last_post_at=now,
        version=F("version") + 1,
    )
    Space.objects.filter(pk=thread.space_id).update(post_count=F("post_count") + 1, version=F("version") + 1)
    target = replied_to.author if replied_to is not None else thread.author
    record(
        actor=author,
        verb=Verb.REPLIED,
        origin_id=f"post:{post.pk}",
        target_member=target if target.pk != author.pk else None,
        object_kind="post",
        object_id=post.pk,
        place_kind=PLACE,
        place_id=thread.space_id,
        occurred_at=post.created_at,
        data={"thread": thread.pk, "parent": replied_to.pk if replied_to else None},
    )
    _after_post(post, mentions, author)
    mentioned = {m.pk for m in mentions}
    followers = (
        Member.objects.filter(Q(follows__thread=thread) | Q(pk=target.pk))
        .exclude(pk__in=[author.pk, *mentioned])
        .select_related("user")
        .distinct()
    )
    _tell(
        _users(list(followers)),
        place_id=thread.space_id,
        kind="reply",
        title=f"{author.name} replied in “{thread.title}”",
        url=_thread_url(thread, post),
        key=f"post:{post.pk}",
        actor_name=author.name,
    )


def post_edit(*, post: Post, editor: Member, body: str) -> Post:
    """Change a post's text, keeping the old text as a revision.

    In a community space the new text is scored again: a held post that now keeps the
    charter is published, and a published one edited into a pitch is held.
    """
    body = _check_body(body)
    thread = post.thread
    if thread.locked and editor.pk == post.author_id:
        raise ApplicationError(ErrorCode.CONFLICT, "This thread is locked; posts can no longer be edited")
    if body == post.body:
        return post
    mentions = _resolve_mentions(body, post.author, thread.space)
    opening = _is_opening(post)
    verdict = None
    if post.state != PostState.REJECTED:
        verdict = _charter(thread.space, f"{thread.title}\n\n{body}" if opening else body)
    with transaction.atomic():
        PostRevision.objects.create(post=post, body=post.body, edited_by=editor)
        post.body = body
        post.html = _render(body, mentions, post.author)
        post.text = markdown.plain_text(post.html)
        post.edited_at = timezone.now()
        post.save(update_fields=["body", "html", "text", "edited_at"])
        # The space too: search results (convenor/spaces/search.py) are cached by space version.
        touch(thread_id=post.thread_id, space_id=thread.space_id)
        if verdict is not None and verdict.held:
            _hold(post, verdict)
            if post.state == PostState.PUBLISHED:
                _set_state(post, PostState.HELD, opening=opening)
                thread_recount(thread=thread)
                space_recount(space=thread.space)
        elif post.state == PostState.HELD:
            _publish(post, mentions)
        elif post.state == PostState.PUBLISHED:
            _after_post(post, mentions, post.author)
    return post


# --- the charter: held posts ----------------------------------------------------------------


def _charter(space: Space, text: str) -> CharterVerdict | None:
    """The charter check of a text posted in `space`; None in a commercial space (not filtered)."""
    if space.frame != Frame.COMMUNITY:
        return None
    return charter_policy.check(text, threshold=space.charter_threshold)


def _hold(post: Post, verdict: CharterVerdict) -> CharterCheck:
    check, _ = CharterCheck.objects.update_or_create(
        post=post,
        defaults={
            "score": verdict.score,
            "threshold": verdict.threshold,
            "reasons": verdict.reasons,
            "unavailable": verdict.unavailable,
            "checked_at": timezone.now(),
        },
    )
    return check


def _is_opening(post: Post) -> bool:
    first = Post.objects.filter(thread_id=post.thread_id).order_by("created_at", "pk").values_list("pk", flat=True)
    return first.first() == post.pk


def _set_state(post: Post, state: str, *, opening: bool) -> None:
    Post.objects.filter(pk=post.pk).update(state=state)
    post.state = state
    if opening:
        Thread.objects.filter(pk=post.thread_id).update(state=state, version=F("version") + 1)
        post.thread.state = state


def _publish(post: Post, mentions: list[Member] | None = None) -> None:
    """Publish a held post: from now on it counts, is logged and notified like any other."""
    thread = post.thread
    if mentions is None:
        mentions = _resolve_mentions(post.body, post.author, thread.space)
    opening = _is_opening(post)
    _set_state(post, PostState.PUBLISHED, opening=opening)
    if opening:
        _publish_opening(thread, post, mentions)
    else:
        _publish_reply(thread, post, mentions)


def post_request_review(*, post: Post, member: Member) -> CharterCheck:
    """The author of a held post asks a moderator to look at it; the space's moderators are told."""
    if post.author_id != member.pk:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Only the author can ask for a review")
    check = CharterCheck.objects.filter(post=post).first()
    if post.state != PostState.HELD or check is None:
        raise ApplicationError(ErrorCode.CONFLICT, "This post is not held")
    if check.review_requested_at is None:
        check.review_requested_at = timezone.now()
        check.save(update_fields=["review_requested_at"])
        space = post.thread.space
        moderators = Member.objects.filter(
            space_memberships__space=space,
            space_memberships__role=SpaceRole.MODERATOR,
            space_memberships__state=MembershipState.ACTIVE,
        ).select_related("user")
        _tell(
            _users(list(moderators)),
            place_id=space.pk,
            kind="review_requested",
            title=f"{member.name} asks for a review of a held post in {space.name}",
            url=reverse("web:moderation_queue"),
            key=f"review:{post.pk}",
            actor_name=member.name,
        )
    return check


def post_move(*, post: Post, target: Space, by: Member) -> Thread:
    """Move a held post to a commercial space in one step, published there; returns its thread.

    The opening post takes its whole thread along; a reply becomes a new thread with the
    same title. Raises VALIDATION when `target` is not a commercial space the author may
    post in, CONFLICT when the post is not held.
    """
    if post.state != PostState.HELD:
        raise ApplicationError(ErrorCode.CONFLICT, "Only a held post can be moved")
    if target.frame != Frame.COMMERCIAL:
        raise invalid(f"{target.name} is not a commercial space", space="choose a commercial space")
    author = post.author
    from convenor.core import access

    if author.user is None or not access.visible_spaces(author.user).filter(pk=target.pk).exists():
        raise invalid(f"{author.name} cannot post in {target.name}", space="choose a space the author can post in")
    _check_can_post(target, author)
    source = post.thread.space
    with transaction.atomic():
        thread = Thread.objects.select_for_update().select_related("space").get(pk=post.thread_id)
        post.thread = thread
        if _is_opening(post):
            Thread.objects.filter(pk=thread.pk).update(space=target)
            thread.space = target
        else:
            now = timezone.now()
            old = thread
            thread = Thread.objects.create(
                space=target, title=old.title, author=author, created_at=now, last_post_at=now
            )
            Post.objects.filter(pk=post.pk).update(thread=thread, parent=None)
            post.thread, post.parent = thread, None
            thread_recount(thread=old)
        mentions = _resolve_mentions(post.body, author, target)
        _set_state(post, PostState.PUBLISHED, opening=True)
        _publish_opening(thread, post, mentions)
        thread_recount(thread=thread)
        space_recount(space=source)
        space_recount(space=target)
        audit_log(
            actor=by.user,
            action="convenor.post.moved",
            obj=thread,
            summary=f"post {post.pk} from {source.name} to {target.name}",
        )
    return thread


def post_move_by_author(*, post: Post, target: Space, author: Member) -> Thread:
    """The author moves their held post to a commercial space, in one step. Recorded as a
    decision (by the author), so retraining learns that the text was commercial."""
    if post.author_id != author.pk:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Only the author can move their post")
    check = CharterCheck.objects.filter(post=post).first()
    source = post.thread.space
    with transaction.atomic():
        thread = post_move(post=post, target=target, by=author)
        ModerationDecision.objects.create(
            post=post,
            space=source,
            moderator=author,
            decision=Decision.MOVE,
            reason="moved by its author",
            score=check.score if check is not None else None,
            text=post.body,
        )
    return thread


def post_moderate(
    *,
    post: Post,
    moderator: Member,
    decision: str,
    reason: str = "",
    target: Space | None = None,
) -> ModerationDecision:
    """A moderator's decision on a held post: approve (publish it), reject (it stays hidden and
    the author is told why) or move (to the commercial space `target`). Always recorded.

    Raises CONFLICT when the post is not held, VALIDATION for an unknown decision or a
    move without a commercial target.
    """
    if decision not in Decision.values:
        raise invalid(f"{decision!r} is not a decision", decision="approve, reject or move")
    if post.state != PostState.HELD:
        raise ApplicationError(ErrorCode.CONFLICT, "This post is not held; it was decided already")
    if decision == Decision.MOVE and target is None:
        raise invalid("Choose the commercial space to move it to", space="This field is required")
    check = CharterCheck.objects.filter(post=post).first()
    source = post.thread.space
    with transaction.atomic():
        if decision == Decision.APPROVE:
            _publish(post)
        elif decision == Decision.REJECT:
            _set_state(post, PostState.REJECTED, opening=_is_opening(post))
            if post.author.user is not None:
                _tell(
                    [post.author.user],
                    place_id=source.pk,
                    kind="post_rejected",
                    title=f"Your post in {source.name} was not published: {reason or 'it breaks the charter'}",
                    url=_thread_url(post.thread, post),
                    key=f"rejected:{post.pk}",
                    actor_name=moderator.name,
                )
        else:
            assert target is not None  # checked above
            post_move(post=post, target=target, by=moderator)
        made = ModerationDecision.objects.create(
            post=post,
            space=source,
            moderator=moderator,
            decision=decision,
            reason=reason.strip(),
            score=check.score if check is not None else None,
            text=post.body,
        )
        audit_log(
            actor=moderator.user,
            action=f"convenor.post.{decision}",
            obj=post.thread,
            summary=f"post {post.pk}: {reason.strip()}"[:200],
        )
    return made


def space_set_threshold(*, space: Space, threshold: float, actor: User | None = None) -> Space:
    """Set the probability over which a community space holds a post (between 0.05 and 0.99)."""
    if not 0.05 <= threshold <= 0.99:
        raise invalid("The threshold is a probability between 0.05 and 0.99", charter_threshold="0.05 to 0.99")
    space.charter_threshold = threshold
    space.save(update_fields=["charter_threshold"])
    audit_log(actor=actor, action="convenor.space.threshold_set", obj=space, summary=f"{threshold:.2f}")
    return space


def reaction_toggle(*, post: Post, member: Member, kind: str) -> bool:
    """Add the reaction, or take it back if it is there; returns whether it is now on."""
    if kind not in ReactionKind.values:
        raise invalid(f"{kind!r} is not a reaction", kind=", ".join(ReactionKind.values))
    with transaction.atomic():
        deleted, _ = Reaction.objects.filter(post=post, member=member, kind=kind).delete()
        delta = -1 if deleted else 1
        if not deleted:
            try:
                with transaction.atomic():
                    Reaction.objects.create(post=post, member=member, kind=kind)
            except IntegrityError:
                return True  # a double click: the first one won
            if post.author_id != member.pk:
                record(
                    actor=member,
                    verb=Verb.REACTED,
                    origin_id=f"reaction:{post.pk}:{member.pk}:{kind}",
                    target_member=post.author,
                    object_kind="post",
                    object_id=post.pk,
                    place_kind=PLACE,
                    place_id=post.thread.space_id,
                    data={"kind": kind},
                )
        Post.objects.filter(pk=post.pk).update(reaction_count=F("reaction_count") + delta)
        Thread.objects.filter(pk=post.thread_id).update(
            reaction_count=F("reaction_count") + delta, version=F("version") + 1
        )
        Space.objects.filter(pk=post.thread.space_id).update(version=F("version") + 1)
    return not deleted


def answer_accept(*, thread: Thread, post: Post, by: Member, can_moderate: bool = False) -> Thread:
    """Mark `post` as the accepted answer to a question. The asker or a moderator may.

    Records ``answer_accepted``: the asker (actor) credits the answerer (target).
    """
    if thread.kind != ThreadKind.QUESTION:
        raise ApplicationError(ErrorCode.CONFLICT, "Only questions have accepted answers")
    if post.thread_id != thread.pk:
        raise invalid("That post is not in this thread", post="not in this thread")
    if by.pk != thread.author_id and not can_moderate:
        raise ApplicationError(ErrorCode.PERMISSION_DENIED, "Only the person who asked, or a moderator, can accept")
    first = Post.objects.filter(thread=thread).order_by("created_at", "pk").values_list("pk", flat=True).first()
    if post.pk == first:
        raise invalid("The question itself cannot be its answer", post="choose a reply")
    with transaction.atomic():
        thread.accepted_post = post
        thread.save(update_fields=["accepted_post"])
        touch(thread_id=thread.pk, space_id=thread.space_id)
        record(
            actor=by,
            verb=Verb.ANSWER_ACCEPTED,
            origin_id=f"accepted:{thread.pk}:{post.pk}",
            target_member=post.author,
            object_kind="post",
            object_id=post.pk,
            place_kind=PLACE,
            place_id=thread.space_id,
        )
        if post.author.user is not None and post.author_id != by.pk:
            _tell(
                [post.author.user],
                place_id=thread.space_id,
                kind="accepted",
                title=f"Your answer in “{thread.title}” was accepted",
                url=_thread_url(thread, post),
                key=f"accepted:{thread.pk}:{post.pk}",
                actor_name=by.name,
            )
    return thread


def thread_moderate(
    *,
    thread: Thread,
    pinned: bool | None = None,
    locked: bool | None = None,
    needs_staff: bool | None = None,
    actor: User | None = None,
) -> Thread:
    """Pin, lock or flag a thread (moderators; the author may flag it as needing staff)."""
    changed = []
    for field, value in (("pinned", pinned), ("locked", locked), ("needs_staff", needs_staff)):
        if value is not None and getattr(thread, field) != value:
            setattr(thread, field, value)
            changed.append(field)
    if changed:
        thread.save(update_fields=changed)
        touch(thread_id=thread.pk, space_id=thread.space_id)
        audit_log(actor=actor, action="convenor.thread.moderated", obj=thread, summary=", ".join(changed))
    return thread


def follow_set(*, member: Member, on: bool, space: Space | None = None, thread: Thread | None = None) -> bool:
    """Follow or stop following a space or a thread; returns whether it is followed now."""
    if (space is None) == (thread is None):
        raise invalid("Follow a space or a thread", target="one of space or thread")
    qs = Follow.objects.filter(member=member, space=space, thread=thread)
    if not on:
        qs.delete()
        return False
    try:
        with transaction.atomic():
            Follow.objects.get_or_create(member=member, space=space, thread=thread)
    except IntegrityError:
        pass
    return True


def thread_recount(*, thread: Thread) -> Thread:
    """Repair the denormalised counters of one thread from its rows."""
    first = Post.objects.filter(thread=thread).order_by("created_at", "pk").values_list("pk", flat=True).first()
    # Held and rejected replies are not counted: nobody but their author and moderators sees them.
    posts = Post.objects.filter(thread=thread, state=PostState.PUBLISHED)
    replies = posts.exclude(pk=first) if first is not None else posts
    Thread.objects.filter(pk=thread.pk).update(
        reply_count=replies.count(),
        staff_reply_count=replies.filter(by_staff=True).count(),
        reaction_count=Reaction.objects.filter(post__thread=thread).count(),
        version=F("version") + 1,
    )
    Space.objects.filter(pk=thread.space_id).update(version=F("version") + 1)
    thread.refresh_from_db()
    return thread


def space_recount(*, space: Space) -> Space:
    Space.objects.filter(pk=space.pk).update(
        thread_count=Thread.objects.filter(space=space, state=PostState.PUBLISHED).count(),
        post_count=Post.objects.filter(
            thread__space=space, state=PostState.PUBLISHED, thread__state=PostState.PUBLISHED
        ).count(),
        version=F("version") + 1,
    )
    space.refresh_from_db()
    return space


def staff_members_named(space: Space) -> list[Member]:
    """The employees named for an account space (its active employee members)."""
    return list(
        Member.objects.filter(
            space_memberships__space=space,
            space_memberships__state=MembershipState.ACTIVE,
            role=Role.EMPLOYEE,
        )
    )


# --- digests --------------------------------------------------------------------------------

DIGEST_PERIODS = {"daily": 1, "weekly": 7}


def digests_send(*, frequency: str, now: datetime | None = None) -> int:
    """Email each person who wants a `frequency` digest what is new in the spaces and threads
    they follow since their last digest; returns how many emails went out.

    Safe to run more often than the period (for example from cron every hour): a person
    gets at most one digest per period. Only what the person may still read is included.
    """
    from datetime import timedelta

    from django.conf import settings

    from convenor.core import access
    from convenor.core.models import DigestFrequency, NotificationPrefs
    from convenor.core.notify import prefs_for, send_user_email

    if frequency not in DIGEST_PERIODS:
        raise invalid(f"{frequency!r} is not a digest frequency", frequency="daily or weekly")
    now = now or timezone.now()
    period = timedelta(days=DIGEST_PERIODS[frequency])
    # People without saved preferences get the default (weekly).
    wants = Q(notification_prefs__digest=frequency)
    if frequency == DigestFrequency.WEEKLY:
        wants |= Q(notification_prefs__isnull=True)
    due = Q(notification_prefs__last_digest_at__isnull=True) | Q(notification_prefs__last_digest_at__lte=now - period)
    sent = 0
    for user in User.objects.filter(wants, due, is_active=True, member__isnull=False).select_related("member"):
        prefs = prefs_for(user)
        since = prefs.last_digest_at or now - period
        readable = access.visible_spaces(user).values("pk")
        member = user.member
        threads = list(
            Thread.objects.filter(
                space__follows__member=member, space__in=readable, created_at__gt=since, state=PostState.PUBLISHED
            )
            .exclude(author=member)
            .select_related("space")
            .order_by("space__name", "-created_at")[:50]
        )
        replies = list(
            Post.objects.filter(
                thread__follows__member=member,
                thread__space__in=readable,
                created_at__gt=since,
                state=PostState.PUBLISHED,
                thread__state=PostState.PUBLISHED,
            )
            .exclude(author=member)
            .select_related("thread", "author")
            .order_by("-created_at")[:50]
        )
        NotificationPrefs.objects.filter(pk=prefs.pk).update(last_digest_at=now)
        if not threads and not replies:
            continue
        base = settings.CONVENOR_BASE_URL
        lines = [f"What is new in {settings.SITE_NAME} since {since:%d %b %Y}:", ""]
        if threads:
            lines.append("New threads in spaces you follow:")
            lines += [f"- [{t.space.name}] {t.title}\n  {base}{_thread_url(t)}" for t in threads]
            lines.append("")
        if replies:
            lines.append("New replies in threads you follow:")
            lines += [f"- {p.author.name} in “{p.thread.title}”\n  {base}{_thread_url(p.thread, p)}" for p in replies]
        send_user_email(
            user,
            subject=f"Your {frequency} digest",
            body="\n".join(lines),
            why=f"You get this {frequency} digest because you follow these spaces and threads.",
        )
        sent += 1
    return sent
