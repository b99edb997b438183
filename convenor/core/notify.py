"""Notifications: in the app, by email for each one, and in digests; one-click unsubscribe.

Emails are sent only after the transaction that created the notifications commits, so a
rolled-back post never emails anyone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from convenor.core.errors import invalid
from convenor.core.models import DigestFrequency, Notification, NotificationPrefs, User

_UNSUBSCRIBE_SALT = "convenor.unsubscribe"


@dataclass(frozen=True)
class Note:
    kind: str
    title: str
    url: str
    key: str
    actor_name: str = ""
    place_kind: str = ""
    place_id: int | None = None


def prefs_for(user: User) -> NotificationPrefs:
    prefs, _ = NotificationPrefs.objects.get_or_create(user=user)
    return prefs


def notify(recipients: Iterable[User], note: Note) -> int:
    """Notify each recipient once per ``note.key``; returns how many notifications are new.

    People who asked for an email for each notification get one after the commit.
    """
    users = {u.pk: u for u in recipients if u.is_active}
    if not users:
        return 0
    already = set(
        Notification.objects.filter(recipient_id__in=users, key=note.key).values_list("recipient_id", flat=True)
    )
    fresh = [
        Notification(
            recipient_id=uid,
            kind=note.kind,
            title=note.title[:300],
            url=note.url,
            key=note.key[:200],
            actor_name=note.actor_name[:200],
            place_kind=note.place_kind,
            place_id=note.place_id,
        )
        for uid in users
        if uid not in already
    ]
    Notification.objects.bulk_create(fresh, ignore_conflicts=True)
    ids = [n.recipient_id for n in fresh]
    transaction.on_commit(lambda: send_immediate_emails(ids, note.key))
    return len(fresh)


def unsubscribe_token(user: User) -> str:
    return signing.dumps({"u": user.pk}, salt=_UNSUBSCRIBE_SALT)


def unsubscribe(token: str) -> User | None:
    """Turn off every email for the token's user; returns the user, or None if the token is bad."""
    try:
        data = signing.loads(token, salt=_UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None
    user = User.objects.filter(pk=data.get("u")).first()
    if user is None:
        return None
    prefs = prefs_for(user)
    prefs.email_each = False
    prefs.digest = DigestFrequency.NEVER
    prefs.save()
    return user


def unsubscribe_url(user: User) -> str:
    """The site-relative one-click unsubscribe link for `user` (the web app serves it)."""
    return reverse("web:unsubscribe", args=[unsubscribe_token(user)])


def send_user_email(user: User, *, subject: str, body: str, why: str) -> None:
    """Email `user` with an unsubscribe footer and the RFC 8058 one-click unsubscribe headers."""
    link = f"{settings.CONVENOR_BASE_URL}{unsubscribe_url(user)}"
    message = EmailMessage(
        subject=f"[{settings.SITE_NAME}] {subject}",
        body=f"{body}\n\n--\n{why}\nUnsubscribe from all emails in one click: {link}\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        headers={"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
    )
    message.send(fail_silently=True)


def send_immediate_emails(recipient_ids: list[int], key: str) -> int:
    """Email the notification with `key` to those recipients who want an email for each one."""
    base = settings.CONVENOR_BASE_URL
    sent = 0
    wanting = User.objects.filter(pk__in=recipient_ids, is_active=True).exclude(notification_prefs__email_each=False)
    for user in wanting:
        note = Notification.objects.filter(recipient=user, key=key, emailed_at__isnull=True).first()
        if note is None:
            continue
        send_user_email(
            user,
            subject=note.title,
            body=f"{note.title}\n\n{base}{note.url}",
            why="You get this because you take part in this conversation in the community.",
        )
        Notification.objects.filter(pk=note.pk).update(emailed_at=timezone.now())
        sent += 1
    return sent


def unread_count(user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


def notifications_for(user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")


def mark_read(user: User, ids: list[int] | None = None) -> int:
    qs = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    return qs.update(read_at=timezone.now())


def prefs_set(user: User, *, email_each: bool, digest: str) -> NotificationPrefs:
    """Save how `user` wants to hear from us. Raises VALIDATION for an unknown digest frequency."""
    if digest not in DigestFrequency.values:
        raise invalid(f"{digest!r} is not a digest frequency", digest=", ".join(DigestFrequency.values))
    prefs = prefs_for(user)
    prefs.email_each, prefs.digest = email_each, digest
    prefs.save(update_fields=["email_each", "digest"])
    return prefs
