"""The charter: scoring a text (staff) and the moderation queue of held posts."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from convenor.charter import detector, policy
from convenor.charter import selectors as charter_selectors
from convenor.core import access
from convenor.spaces import services
from convenor.spaces.models import ModerationDecision, Post

from .auth import viewer
from .errors import fields_renamed
from .pagination import Page, PageParams, paginate
from .schemas import ERRORS, AuthorOut, ReasonOut
from .spaces import member_of

router = Router(tags=["charter"])


class ScoreIn(Schema):
    text: str = Field(description=f"The text to score, at most {detector.MAX_TEXT_CHARS:,} characters.")
    threshold: float = Field(detector.DEFAULT_THRESHOLD, ge=0.05, le=0.99, description="Held over this.")


class ScoreOut(Schema):
    probability: float | None = Field(description="Of being promotional; null when the check is unavailable.")
    held: bool
    threshold: float
    unavailable: bool
    reasons: list[ReasonOut]


class HeldPostOut(Schema):
    id: int
    thread_id: int
    thread_title: str
    space_id: int
    space_name: str
    author: AuthorOut
    body: str
    created_at: datetime
    score: float | None
    threshold: float
    unavailable: bool
    reasons: list[ReasonOut]
    review_requested_at: datetime | None

    @staticmethod
    def resolve_thread_title(obj: Post) -> str:
        return obj.thread.title

    @staticmethod
    def resolve_space_id(obj: Post) -> int:
        return obj.thread.space_id

    @staticmethod
    def resolve_space_name(obj: Post) -> str:
        return obj.thread.space.name

    @staticmethod
    def resolve_score(obj: Post) -> float | None:
        return obj.charter_check.score

    @staticmethod
    def resolve_threshold(obj: Post) -> float:
        return obj.charter_check.threshold

    @staticmethod
    def resolve_unavailable(obj: Post) -> bool:
        return obj.charter_check.unavailable

    @staticmethod
    def resolve_reasons(obj: Post) -> list[dict[str, Any]]:
        return list(obj.charter_check.reasons)

    @staticmethod
    def resolve_review_requested_at(obj: Post) -> datetime | None:
        return obj.charter_check.review_requested_at


class QueuePage(Page):
    items: list[HeldPostOut]
    false_positive_rate: float | None = Field(
        description="Approved held posts over all decided held posts in the spaces you moderate."
    )


class DecisionIn(Schema):
    decision: Literal["approve", "reject", "move"]
    reason: str = Field("", max_length=500, description="Told to the author when the post is rejected.")
    space_id: int | None = Field(None, description="The commercial space to move the post to (move).")


class DecisionOut(Schema):
    id: int
    post_id: int
    space_id: int
    decision: str
    reason: str
    score: float | None
    created_at: datetime
    post_state: str
    thread_id: int

    @staticmethod
    def resolve_post_state(obj: ModerationDecision) -> str:
        return obj.post.state

    @staticmethod
    def resolve_thread_id(obj: ModerationDecision) -> int:
        return obj.post.thread_id


@router.post("/charter/score", response={200: ScoreOut, **ERRORS})
def charter_score(request: HttpRequest, payload: ScoreIn) -> dict[str, Any]:
    """Score a text for promotional intent (staff). Nothing is stored."""
    user = viewer(request)
    access.require(access.is_staff(user), "Scoring is for staff")
    detector.check_text(payload.text)
    verdict = policy.check(payload.text, threshold=payload.threshold)
    return {
        "probability": verdict.score,
        "held": verdict.held,
        "threshold": verdict.threshold,
        "unavailable": verdict.unavailable,
        "reasons": verdict.reasons,
    }


@router.get("/moderation/queue", response={200: QueuePage, **ERRORS})
def moderation_queue(request: HttpRequest, page: Query[PageParams], space: int | None = None) -> dict[str, Any]:
    """Held posts waiting in the community spaces you moderate; asked-for reviews first."""
    user = viewer(request)
    spaces = charter_selectors.moderated_spaces(viewer=user)
    access.require(spaces.exists(), "Only moderators of community spaces have a moderation queue")
    chosen = access.space_for_view(user, space) if space is not None else None
    body = paginate(request, charter_selectors.moderation_queue(viewer=user, space=chosen), page)
    body["false_positive_rate"] = charter_selectors.false_positive_rate(spaces=spaces).value
    return body


@router.post("/moderation/{post_id}/decision", response={201: DecisionOut, **ERRORS})
def moderation_decision(request: HttpRequest, post_id: int, payload: DecisionIn) -> tuple[int, ModerationDecision]:
    """Approve (publish), reject (keep hidden; the author is told the reason) or move a held post."""
    user = viewer(request)
    post = access.post_for_moderation(user, post_id)
    target = access.space_for_view(user, payload.space_id) if payload.space_id is not None else None
    made = services.post_moderate(
        post=post, moderator=member_of(user), decision=payload.decision, reason=payload.reason, target=target
    )
    return 201, made


class ReviewOut(Schema):
    post_id: int
    review_requested_at: datetime


class MoveIn(Schema):
    space_id: int = Field(description="The commercial space to publish the post in.")


class MovedOut(Schema):
    post_id: int
    thread_id: int = Field(description="The thread the post is now published in.")
    space_id: int


@router.post("/posts/{post_id}/review", response={200: ReviewOut, **ERRORS})
def post_review(request: HttpRequest, post_id: int) -> dict[str, Any]:
    """The author of a held post asks the space's moderators to review it (asking twice is harmless)."""
    user = viewer(request)
    post = access.post_for_view(user, post_id)
    check = services.post_request_review(post=post, member=member_of(user))
    return {"post_id": post.pk, "review_requested_at": check.review_requested_at}


@router.post("/posts/{post_id}/move", response={200: MovedOut, **ERRORS})
def post_move(request: HttpRequest, post_id: int, payload: MoveIn) -> dict[str, Any]:
    """The author moves their held post to a commercial space, where it is published at once."""
    user = viewer(request)
    post = access.post_for_view(user, post_id)
    target = access.space_for_view(user, payload.space_id)
    with fields_renamed(space="space_id"):
        thread = services.post_move_by_author(post=post, target=target, author=member_of(user))
    return {"post_id": post.pk, "thread_id": thread.pk, "space_id": thread.space_id}
