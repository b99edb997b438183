"""Writes for boards, ideas, votes, comments, follows, statuses and merges, and closing the loop.

Each function validates, writes in one transaction, records the interaction in the activity
log (submitted_idea, voted, commented) and queues notifications (sent after the commit).
Counters on ideas are kept with F() under a row lock and repaired by idea_recount().
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify

from convenor.activity.models import NATIVE_SOURCE, Activity, Verb
from convenor.activity.services import record
from convenor.core import access
from convenor.core.audit import audit_log
from convenor.core.errors import ApplicationError, ErrorCode, invalid
from convenor.core.models import User
from convenor.core.notify import Note, notify
from convenor.feedback.models import (
    Board,
    BoardVisibility,
    Idea,
    IdeaComment,
    IdeaFollow,
    IdeaSource,
    IdeaStatus,
    Importance,
    SourceKind,
    StatusChange,
    Vote,
)
from convenor.listening import selectors as listening_selectors
from convenor.listening.models import OUTSIDE_POST
from convenor.people.models import Affiliation, Member, Organization, OrgKind, Role
from convenor.spaces import selectors as space_selectors
from convenor.spaces import services as space_services
from convenor.spaces.models import Post, Space, Visibility

MAX_TITLE_CHARS = 200
MAX_TEXT_CHARS = 20_000
# Activities about ideas land in the log with place ("board", id): not a space, so a member's
# view of the log never shows a board they cannot read.
PLACE = "board"


def idea_url(idea: Idea) -> str:
    return reverse("feedback:idea_detail", args=[idea.pk])


def _is_staff(member: Member) -> bool:
    return member.role == Role.EMPLOYEE or bool(member.user and member.user.staff_role)


# --- boards ---------------------------------------------------------------------------------


def _free_slug(name: str) -> str:
    base = slugify(name)[:100] or "board"
    slug, n = base, 2
    while Board.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def board_create(
    *,
    name: str,
    visibility: str = BoardVisibility.MEMBERS,
    description: str = "",
    organization: Organization | None = None,
    creator: Member | None = None,
    actor: User | None = None,
) -> Board:
    """Create a board. An account board belongs to one customer organisation.

    Raises VALIDATION with per-field messages.
    """
    name = " ".join(name.split())
    fields: dict[str, list[str]] = {}
    if not name:
        fields["name"] = ["This field is required"]
    elif len(name) > 120:
        fields["name"] = ["At most 120 characters"]
    if visibility not in BoardVisibility.values:
        fields["visibility"] = [f"{visibility!r} is not one of: {', '.join(BoardVisibility.values)}"]
    elif visibility == BoardVisibility.ACCOUNT:
        if organization is None:
            fields["organization"] = ["An account board belongs to one customer organisation"]
        elif organization.kind == OrgKind.OURS:
            fields["organization"] = ["Account boards are for customer organisations, not our company"]
    elif organization is not None:
        fields["organization"] = ["Only account boards belong to an organisation"]
    if fields:
        raise ApplicationError(ErrorCode.VALIDATION, "The board could not be created", fields=fields)
    with transaction.atomic():
        board = Board.objects.create(
            name=name,
            slug=_free_slug(name),
            description=description.strip(),
            visibility=visibility,
            organization=organization if visibility == BoardVisibility.ACCOUNT else None,
            created_by=creator,
        )
        audit_log(actor=actor, action="convenor.feedback.board.created", obj=board, summary=board.name)
    return board


# --- ideas ----------------------------------------------------------------------------------


def _check_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise invalid("An idea needs a title", title="This field is required")
    if len(title) > MAX_TITLE_CHARS:
        raise invalid(
            f"A title can be at most {MAX_TITLE_CHARS} characters; this one has {len(title)}",
            title=f"At most {MAX_TITLE_CHARS} characters",
        )
    return title


def _check_text(text: str, name: str, *, required: bool = False) -> str:
    text = text.replace("\r\n", "\n").strip()
    if required and not text:
        raise invalid("Write something first", **{name: "This field is required"})
    if len(text) > MAX_TEXT_CHARS:
        raise invalid(
            f"At most {MAX_TEXT_CHARS:,} characters; this has {len(text):,}",
            **{name: f"At most {MAX_TEXT_CHARS:,} characters"},
        )
    return text


def _follow(idea: Idea, member: Member) -> bool:
    """Follow without raising; returns True when the follow is new (and counted)."""
    _, created = IdeaFollow.objects.get_or_create(idea=idea, member=member)
    if created:
        Idea.objects.filter(pk=idea.pk).update(follower_count=F("follower_count") + 1)
    return created


def idea_create(
    *,
    board: Board,
    author: Member,
    title: str,
    description: str = "",
    created_by: Member | None = None,
) -> Idea:
    """Submit an idea to `board`, credited to `author`, who follows it. Records ``submitted_idea``.

    Raises VALIDATION for an empty or oversize title or description.
    """
    title = _check_title(title)
    description = _check_text(description, "description")
    now = timezone.now()
    with transaction.atomic():
        idea = Idea.objects.create(
            board=board,
            title=title,
            description=description,
            author=author,
            created_by=created_by or author,
            created_at=now,
        )
        Board.objects.filter(pk=board.pk).update(idea_count=F("idea_count") + 1)
        record(
            actor=author,
            verb=Verb.SUBMITTED_IDEA,
            origin_id=f"idea:{idea.pk}",
            object_kind="idea",
            object_id=idea.pk,
            place_kind=PLACE,
            place_id=board.pk,
            occurred_at=now,
        )
        _follow(idea, author)
        if created_by is not None and created_by.pk != author.pk:
            _follow(idea, created_by)
    idea.refresh_from_db()
    return idea


def _live(idea: Idea) -> Idea:
    """The idea a merged one now lives in (following the chain)."""
    seen = {idea.pk}
    while idea.merged_into_id is not None:
        idea = Idea.objects.select_related("board").get(pk=idea.merged_into_id)
        if idea.pk in seen:  # pragma: no cover - the merge service refuses cycles
            break
        seen.add(idea.pk)
    return idea


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 300 else text[:299] + "…"


def idea_link_post(*, idea: Idea, post: Post, by: Member) -> IdeaSource:
    """Link `post` to `idea` (a merged idea passes the link on): the idea keeps the link, the
    post's author is credited and follows the idea. The thread page shows it at once.

    Raises DUPLICATE when the post is already linked to the idea, CONFLICT for an unpublished post.
    """
    idea = _live(idea)
    if post.state != "published":
        raise ApplicationError(ErrorCode.CONFLICT, "Only a published post can be linked to an idea")
    thread = post.thread
    with transaction.atomic():
        source = _add_source(
            idea,
            author=post.author,
            by=by,
            duplicate=f"This post is already linked to “{idea.title}”",
            kind=SourceKind.POST,
            post=post,
            thread=thread,
            space_id=thread.space_id,
            excerpt=_excerpt(post.text or post.body),
        )
        space_services.touch(thread_id=thread.pk, space_id=thread.space_id)
    return source


def _add_source(idea: Idea, *, author: Member, by: Member | None, duplicate: str, **fields: Any) -> IdeaSource:
    """Link a source to `idea`, credited to `author`, who follows the idea (as does `by`, who
    linked it). Raises DUPLICATE with the message `duplicate` when the link exists already."""
    try:
        with transaction.atomic():
            source = IdeaSource.objects.create(idea=idea, author=author, linked_by=by, **fields)
    except IntegrityError:
        raise ApplicationError(ErrorCode.DUPLICATE, duplicate) from None
    _follow(idea, author)
    if by is not None and by.pk != author.pk:
        _follow(idea, by)
    return source


def idea_from_post(*, post: Post, board: Board, by: Member, title: str, description: str = "") -> Idea:
    """Turn `post` into a new idea on `board` in one step: credited to the post's author, linked
    to the post. Raises VALIDATION (title) and CONFLICT (unpublished post)."""
    if post.state != "published":
        raise ApplicationError(ErrorCode.CONFLICT, "Only a published post can become an idea")
    with transaction.atomic():
        idea = idea_create(board=board, author=post.author, title=title, description=description, created_by=by)
        idea_link_post(idea=idea, post=post, by=by)
    idea.refresh_from_db()
    return idea


def _outside_excerpt(activity: Activity) -> str:
    """What an imported activity said: the text (or title) of the outside post it records."""
    if activity.object_kind == OUTSIDE_POST and activity.object_id is not None:
        post = listening_selectors.outside_posts_by_id([activity.object_id]).get(activity.object_id)
        if post is not None:
            return _excerpt(post.text or post.title)
    return _excerpt(str(activity.data.get("text", "") or activity.data.get("title", "")))


def _check_outside(activity: Activity) -> None:
    if activity.source == NATIVE_SOURCE:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            "Only what was imported from an outside conduit is linked this way; link the post itself",
        )


def idea_link_activity(*, idea: Idea, activity: Activity, by: Member | None = None) -> IdeaSource:
    """Link an imported activity (a review, a blog post, a chat message: what an outside post
    records) to `idea` (a merged idea passes the link on): demand from an outside conduit.
    The idea keeps the link with the conduit and an excerpt of the post; the activity's author
    (an observed person or a member) is credited and follows the idea, as a post's author does.
    Nothing is posted back into the conduit when the idea's status changes.

    Raises DUPLICATE when it is already linked to the idea, CONFLICT for a native activity.
    """
    _check_outside(activity)
    idea = _live(idea)
    with transaction.atomic():
        return _add_source(
            idea,
            author=activity.actor,
            by=by,
            duplicate=f"This outside post is already linked to “{idea.title}”",
            kind=SourceKind.ACTIVITY,
            activity=activity,
            conduit=activity.source,
            excerpt=_outside_excerpt(activity),
        )


def idea_from_activity(*, activity: Activity, board: Board, by: Member, title: str, description: str = "") -> Idea:
    """Turn an imported activity (what an outside post records) into a new idea on `board` in
    one step: credited to its author, linked to it. Raises VALIDATION (title) and CONFLICT
    (a native activity); nothing is written when either is raised."""
    _check_outside(activity)
    with transaction.atomic():
        idea = idea_create(board=board, author=activity.actor, title=title, description=description, created_by=by)
        idea_link_activity(idea=idea, activity=activity, by=by)
    idea.refresh_from_db()
    return idea


# --- votes, follows, comments ---------------------------------------------------------------


def _refuse_closed(idea: Idea, what: str) -> None:
    if idea.merged_into_id is not None:
        raise ApplicationError(
            ErrorCode.CONFLICT,
            f"This idea was merged into #{idea.merged_into_id}; {what} there instead",
        )
    if idea.status == IdeaStatus.DECLINED:
        raise ApplicationError(ErrorCode.CONFLICT, f"This idea was declined; it takes no {what.split()[0]}s")
    if idea.status == IdeaStatus.SHIPPED:
        raise ApplicationError(ErrorCode.CONFLICT, f"This idea has shipped already; it takes no {what.split()[0]}s")


def vote_cast(*, idea: Idea, member: Member, importance: int | None = None) -> Vote:
    """Vote for `idea` once, with an optional importance. The voter follows the idea.

    Raises DUPLICATE when `member` voted already, CONFLICT for a declined, shipped or merged
    idea, VALIDATION for an unknown importance.
    """
    if importance is not None and importance not in Importance.values:
        raise invalid(
            f"Importance {importance!r} is not one of {', '.join(str(v) for v in Importance.values)}",
            importance="1 (nice to have), 2 (important) or 3 (critical)",
        )
    with transaction.atomic():
        # Lock the idea: a status change or merge racing the vote must not let it through.
        idea = Idea.objects.select_for_update().get(pk=idea.pk)
        _refuse_closed(idea, "vote")
        try:
            with transaction.atomic():
                vote = Vote.objects.create(idea=idea, member=member, importance=importance)
        except IntegrityError:
            raise ApplicationError(ErrorCode.DUPLICATE, "You already voted for this idea") from None
        Idea.objects.filter(pk=idea.pk).update(vote_count=F("vote_count") + 1)
        record(
            actor=member,
            verb=Verb.VOTED,
            origin_id=f"vote:{idea.pk}:{member.pk}",
            target_member=idea.author if idea.author_id and idea.author_id != member.pk else None,
            object_kind="idea",
            object_id=idea.pk,
            place_kind=PLACE,
            place_id=idea.board_id,
            data={"importance": importance},
        )
        _follow(idea, member)
    return vote


def vote_withdraw(*, idea: Idea, member: Member) -> bool:
    """Take back a vote; returns False when there was none. The activity stays in the log."""
    with transaction.atomic():
        Idea.objects.select_for_update().filter(pk=idea.pk).first()
        gone, _ = Vote.objects.filter(idea=idea, member=member).delete()
        if gone:
            Idea.objects.filter(pk=idea.pk).update(vote_count=F("vote_count") - 1)
    return bool(gone)


def follow_set(*, idea: Idea, member: Member, on: bool) -> bool:
    """Follow or stop following an idea; returns whether anything changed."""
    with transaction.atomic():
        if on:
            return _follow(idea, member)
        gone, _ = IdeaFollow.objects.filter(idea=idea, member=member).delete()
        if gone:
            Idea.objects.filter(pk=idea.pk).update(follower_count=F("follower_count") - 1)
        return bool(gone)


def comment_add(*, idea: Idea, author: Member, body: str) -> IdeaComment:
    """Comment on an idea (a merged one is refused: comment on the idea it went into).

    Records ``commented``; the author follows the idea; other followers are notified.
    Raises VALIDATION for an empty or oversize comment, CONFLICT for a merged idea.
    """
    body = _check_text(body, "body", required=True)
    if idea.merged_into_id is not None:
        raise ApplicationError(
            ErrorCode.CONFLICT, f"This idea was merged into #{idea.merged_into_id}; comment there instead"
        )
    with transaction.atomic():
        comment = IdeaComment.objects.create(idea=idea, author=author, body=body, by_staff=_is_staff(author))
        Idea.objects.filter(pk=idea.pk).update(comment_count=F("comment_count") + 1)
        record(
            actor=author,
            verb=Verb.COMMENTED,
            origin_id=f"idea-comment:{comment.pk}",
            target_member=idea.author if idea.author_id and idea.author_id != author.pk else None,
            object_kind="idea",
            object_id=idea.pk,
            place_kind=PLACE,
            place_id=idea.board_id,
        )
        _follow(idea, author)
        followers = Member.objects.filter(idea_follows__idea=idea).exclude(pk=author.pk).select_related("user")
        notify(
            _audience(idea.board, list(followers)),
            Note(
                kind="idea_comment",
                title=f"{author.name} commented on “{idea.title}”",
                url=f"{idea_url(idea)}#comment-{comment.pk}",
                key=f"idea-comment:{comment.pk}",
                actor_name=author.name,
                **_note_place(idea.board),
            ),
        )
    return comment


def _note_place(board: Board) -> dict[str, Any]:
    """Where a notification about an idea belongs. An account board's notes are placed in the
    account's private space, so they disappear from the list of someone who loses access to
    it, as notes about the space's own posts do; other boards' notes at ("board", id)."""
    if board.visibility == BoardVisibility.ACCOUNT and board.organization_id is not None:
        space = space_selectors.account_space_of(organization_id=board.organization_id)
        if space is not None:
            return {"place_kind": "space", "place_id": space.pk}
    return {"place_kind": PLACE, "place_id": board.pk}


def _audience(board: Board, members: list[Member]) -> list[User]:
    """The accounts of `members` who may read `board` now (a private board's idea never
    reaches someone who left the account)."""
    users = [m.user for m in members if m.user is not None]
    if board.visibility != BoardVisibility.ACCOUNT:
        return users
    return [u for u in users if access.visible_boards(u).filter(pk=board.pk).exists()]


# --- statuses and closing the loop ----------------------------------------------------------


@dataclass
class Loop:
    """What closing the loop did for one status change."""

    notified: int = 0
    replies: list[int] = field(default_factory=list)
    announcements: list[int] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "notified": self.notified,
            "replies": self.replies,
            "announcements": self.announcements,
            "skipped": self.skipped,
        }


def _update_body(idea: Idea, change: StatusChange, voters: int) -> str:
    label = IdeaStatus(change.to_status).label
    lines = [f"**Update on an idea raised here: {label}.** [{idea.title}]({idea_url(idea)})"]
    if change.note:
        lines += ["", change.note]
    lines += [
        "",
        f"_{voters} {'person' if voters == 1 else 'people'} voted for it. Thank you for raising it._",
    ]
    return "\n".join(lines)


def status_change(*, idea: Idea, to_status: str, note: str = "", by: User) -> StatusChange:
    """Move `idea` to `to_status`, keep the change with its note, and close the loop:

    - its voters and followers are notified (in the app, and by email for those who want it);
    - a reply is posted, as the staff member `by`, in every thread the idea came from;
    - the group and account spaces where it was raised (and an account board's own space)
      get a post announcing it.

    Raises VALIDATION for an unknown status or an oversize note, CONFLICT for the current
    status or a merged idea. A thread that cannot take a reply (locked, archived) is skipped
    and said so in the change's ``loop``.
    """
    if to_status not in IdeaStatus.values:
        raise invalid(f"{to_status!r} is not a status", status=f"one of: {', '.join(IdeaStatus.values)}")
    note = _check_text(note, "note")
    staff_member = access.viewer_member(by)
    with transaction.atomic():
        idea = Idea.objects.select_for_update().select_related("board").get(pk=idea.pk)
        if idea.merged_into_id is not None:
            raise ApplicationError(ErrorCode.CONFLICT, f"This idea was merged into #{idea.merged_into_id}")
        if idea.status == to_status:
            raise ApplicationError(ErrorCode.CONFLICT, f"The idea is already {IdeaStatus(to_status).label.lower()}")
        now = timezone.now()
        change = StatusChange.objects.create(
            idea=idea, from_status=idea.status, to_status=to_status, note=note, by=staff_member, created_at=now
        )
        idea.status = to_status
        idea.status_changed_at = now
        update = ["status", "status_changed_at"]
        if to_status == IdeaStatus.SHIPPED:
            idea.shipped_at = now
            idea.changelog_note = note
            update += ["shipped_at", "changelog_note"]
        idea.save(update_fields=update)
        audit_log(
            actor=by,
            action="convenor.feedback.idea.status_changed",
            obj=idea,
            summary=f"{idea.title}: {change.from_status} → {to_status}",
            data={"note": note},
        )
        loop = _close_loop(idea, change, by, staff_member)
        change.loop = loop.as_dict()
        change.save(update_fields=["loop"])
    return change


def _close_loop(idea: Idea, change: StatusChange, by: User, staff: Member | None) -> Loop:
    loop = Loop()
    label = IdeaStatus(change.to_status).label
    people = (
        Member.objects.filter(Q(idea_votes__idea=idea) | Q(idea_follows__idea=idea))
        .exclude(user=by)
        .select_related("user")
        .distinct()
    )
    loop.notified = notify(
        _audience(idea.board, list(people)),
        Note(
            kind="idea_status",
            title=f"“{idea.title}” is now {label.lower()}" + (f": {change.note[:120]}" if change.note else ""),
            url=idea_url(idea),
            key=f"idea-status:{change.pk}",
            actor_name=staff.name if staff is not None else "",
            **_note_place(idea.board),
        ),
    )
    if staff is None:
        loop.skipped.append("The staff account has no member profile, so nothing was posted in the conversations")
        return loop
    body = _update_body(idea, change, idea.vote_count)
    thread_ids = list(
        IdeaSource.objects.filter(idea=idea, thread__isnull=False).values_list("thread_id", flat=True).distinct()
    )
    from convenor.spaces.models import Thread

    for thread in Thread.objects.filter(pk__in=thread_ids).select_related("space").order_by("pk"):
        try:
            post = space_services.post_reply(thread=thread, author=staff, body=body)
        except ApplicationError as err:
            loop.skipped.append(f"thread {thread.pk}: {err.message}")
        else:
            loop.replies.append(post.pk)
    # Group and account spaces where it was raised, and an account board's own space.
    space_ids = set(
        IdeaSource.objects.filter(idea=idea, space__visibility__in=[Visibility.GROUP, Visibility.ACCOUNT]).values_list(
            "space_id", flat=True
        )
    )
    if idea.board.visibility == BoardVisibility.ACCOUNT and idea.board.organization_id is not None:
        own = space_selectors.account_space_of(organization_id=idea.board.organization_id)
        if own is not None:
            space_ids.add(own.pk)
    for space in Space.objects.filter(pk__in=space_ids, archived_at__isnull=True).order_by("pk"):
        try:
            thread = space_services.thread_create(
                space=space, author=staff, title=f"{label}: {idea.title}"[:200], body=body
            )
        except ApplicationError as err:
            loop.skipped.append(f"space {space.pk}: {err.message}")
        else:
            loop.announcements.append(thread.pk)
    return loop


# --- merging --------------------------------------------------------------------------------


def _outside_audience(source: Idea, target: Idea) -> list[str]:
    """Names of voters or followers of `source` who cannot read `target`'s board."""
    board = target.board
    people = Member.objects.filter(Q(idea_votes__idea=source) | Q(idea_follows__idea=source)).distinct()
    if board.visibility in (BoardVisibility.PUBLIC, BoardVisibility.MEMBERS) or board.organization_id is None:
        # Voting and following need an account: anyone who did can read a members board.
        return []
    current = Affiliation.objects.filter(
        member=OuterRef("pk"), organization_id=board.organization_id, ended_on__isnull=True
    ).values("pk")[:1]
    outside = people.annotate(at_org=Subquery(current)).filter(at_org__isnull=True)
    return [m.name for m in outside if not access.member_sees_board(m, board)]


def _widens(source: Board, target: Board) -> bool:
    """Whether people who cannot read `source` could read `target`."""
    if source.visibility == BoardVisibility.PUBLIC:
        return False
    if source.visibility == BoardVisibility.MEMBERS:
        return target.visibility == BoardVisibility.PUBLIC
    return not (target.visibility == BoardVisibility.ACCOUNT and target.organization_id == source.organization_id)


def idea_merge(*, source: Idea, target: Idea, by: User) -> Idea:
    """Merge the duplicate `source` into `target`: votes, followers, comments and links move,
    nobody is counted twice (a person who voted for both keeps one vote), and `source`
    points to `target` from then on. Comments stay on `source` when `target`'s board is
    read by people who could not read `source`'s (a private account's words are not
    published by a merge). Returns `target`, recounted.

    Raises MERGE_SELF for an idea merged into itself, CONFLICT when either was merged
    already, and PERMISSION_DENIED when some voters could not read `target`'s board.
    """
    if source.pk == target.pk:
        raise ApplicationError(ErrorCode.MERGE_SELF, "An idea cannot be merged into itself")
    with transaction.atomic():
        locked = {
            i.pk: i for i in Idea.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        target.board = Board.objects.get(pk=target.board_id)
        if source.merged_into_id is not None:
            raise ApplicationError(ErrorCode.CONFLICT, f"“{source.title}” was merged already")
        if target.merged_into_id is not None:
            raise ApplicationError(
                ErrorCode.CONFLICT,
                f"“{target.title}” was itself merged into #{target.merged_into_id}; merge into that one",
            )
        outside = _outside_audience(source, target)
        if outside:
            shown = ", ".join(outside[:5]) + (f" and {len(outside) - 5} more" if len(outside) > 5 else "")
            raise ApplicationError(
                ErrorCode.PERMISSION_DENIED,
                f"Cannot merge into an idea on “{target.board.name}”: {len(outside)} of the people who voted "
                f"for or follow this one cannot see that board ({shown})",
            )
        # Votes: people who voted for both keep their vote on the target only.
        both = Vote.objects.filter(idea=target).values("member")
        Vote.objects.filter(idea=source, member__in=both).delete()
        moved_votes = Vote.objects.filter(idea=source).update(idea=target)
        follows_both = IdeaFollow.objects.filter(idea=target).values("member")
        IdeaFollow.objects.filter(idea=source, member__in=follows_both).delete()
        IdeaFollow.objects.filter(idea=source).update(idea=target)
        # Comments were written for the source's readers: they move only when the target's
        # board is no wider, else they stay on the merged idea's page, on its own board.
        if not _widens(Board.objects.get(pk=source.board_id), target.board):
            IdeaComment.objects.filter(idea=source).update(idea=target)
        linked_posts = IdeaSource.objects.filter(idea=target, post__isnull=False).values("post")
        linked_acts = IdeaSource.objects.filter(idea=target, activity__isnull=False).values("activity")
        IdeaSource.objects.filter(idea=source).filter(Q(post__in=linked_posts) | Q(activity__in=linked_acts)).delete()
        IdeaSource.objects.filter(idea=source).update(idea=target)
        now = timezone.now()
        StatusChange.objects.create(
            idea=source,
            from_status=source.status,
            to_status=source.status,
            note=f"Merged into #{target.pk} “{target.title}”",
            by=access.viewer_member(by),
            created_at=now,
        )
        source.merged_into = target
        source.save(update_fields=["merged_into"])
        Board.objects.filter(pk=source.board_id).update(idea_count=F("idea_count") - 1)
        audit_log(
            actor=by,
            action="convenor.feedback.idea.merged",
            obj=target,
            summary=f"#{source.pk} {source.title} merged into #{target.pk} {target.title}",
            data={"merged_idea_id": source.pk, "votes_moved": moved_votes},
        )
        idea_recount(idea=source)
        target = idea_recount(idea=target)
        for thread_id in IdeaSource.objects.filter(idea=target, thread__isnull=False).values_list(
            "thread_id", flat=True
        ):
            space_services.touch(thread_id=thread_id)
    return target


# --- counters -------------------------------------------------------------------------------


def _count(model: type[Vote] | type[IdeaComment] | type[IdeaFollow]) -> Coalesce:
    sub = model.objects.filter(idea=OuterRef("pk")).order_by().values("idea").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(sub), 0)


def idea_recount(*, idea: Idea) -> Idea:
    """Repair one idea's vote, comment and follower counts from its rows."""
    Idea.objects.filter(pk=idea.pk).update(
        vote_count=_count(Vote), comment_count=_count(IdeaComment), follower_count=_count(IdeaFollow)
    )
    idea.refresh_from_db()
    return idea


def recount_all() -> int:
    """Repair every idea's counters and every board's idea count in a few UPDATEs; returns how
    many ideas or boards were wrong."""
    votes, comments, follows = _count(Vote), _count(IdeaComment), _count(IdeaFollow)
    with transaction.atomic():
        wrong = (
            Idea.objects.annotate(v=votes, c=comments, f=follows)
            .filter(~Q(vote_count=F("v")) | ~Q(comment_count=F("c")) | ~Q(follower_count=F("f")))
            .count()
        )
        Idea.objects.update(vote_count=votes, comment_count=comments, follower_count=follows)
        live = (
            Idea.objects.filter(board=OuterRef("pk"), merged_into__isnull=True)
            .order_by()
            .values("board")
            .annotate(n=Count("pk"))
            .values("n")
        )
        wrong += Board.objects.annotate(n=Coalesce(Subquery(live), 0)).filter(~Q(idea_count=F("n"))).count()
        Board.objects.update(idea_count=Coalesce(Subquery(live), 0))
    return wrong
