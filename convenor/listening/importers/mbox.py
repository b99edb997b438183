"""A mailing-list archive in mbox format (the stdlib mailbox module reads it message by
message). Threads are rebuilt from Message-ID, In-Reply-To and References: a message's
parent is its In-Reply-To (else the last of its References), its thread the first of
its References (else its parent's id, else itself)."""

from __future__ import annotations

import mailbox
import re
from collections.abc import Iterator
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path

from django.conf import settings

from convenor.listening.importers.base import (
    Author,
    Item,
    Parsed,
    Parser,
    Progress,
    Reject,
    bad_file,
    clip,
    fit_id,
    html_to_text,
    parse_when,
    too_large,
)

_ID = re.compile(r"<[^<>\s]+>")
_QUOTED = re.compile(r"^(>.*|On .+ wrote:)$", re.MULTILINE)


def _header(msg: Message, name: str) -> str:
    raw = msg.get(name)
    if raw is None:
        return ""
    try:
        return str(make_header(decode_header(str(raw)))).strip()
    except (LookupError, UnicodeDecodeError, ValueError):
        return str(raw).strip()


def _ids(value: str) -> list[str]:
    return [m.strip("<>") for m in _ID.findall(value)]


def _body(msg: Message) -> str:
    """The first text/plain part (else the first text/html part, as text), decoded with its
    declared charset. Raises ValueError when the charset is unknown or the bytes do not
    match it."""
    part: Message | None = None
    html_part: Message | None = None
    if msg.is_multipart():
        for p in msg.walk():
            if p.get_filename():
                continue
            if p.get_content_type() == "text/plain":
                part = p
                break
            if p.get_content_type() == "text/html" and html_part is None:
                html_part = p
    elif msg.get_content_type() in ("text/plain", ""):
        part = msg
    elif msg.get_content_type() == "text/html":
        html_part = msg
    if part is None and html_part is not None:
        return html_to_text(_decoded(html_part))
    if part is None:
        return ""
    # Leave quoted text out: it is the parent's words, already imported with the parent.
    return _QUOTED.sub("", _decoded(part)).strip()


def _decoded(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "us-ascii"
    try:
        text = payload.decode(charset)
    except LookupError:
        raise ValueError(f"unknown charset {charset!r}") from None
    except UnicodeDecodeError as exc:
        if charset.lower() in ("us-ascii", "ascii"):
            # Undeclared 8-bit mail is common; UTF-8 is the usual truth.
            try:
                text = payload.decode("utf-8")
            except UnicodeDecodeError:
                raise ValueError(f"the body is not {charset} (byte {exc.start})") from None
        else:
            raise ValueError(f"the body is not {charset} (byte {exc.start})") from None
    return text


class MboxParser(Parser):
    def __init__(self, path: Path, filename: str) -> None:
        self.filename = filename
        try:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(5)
        except OSError as exc:
            raise bad_file(filename, f"cannot read the file ({exc.strerror})") from None
        limit = settings.LISTENING_MAX_FILE_BYTES
        if size > limit:
            raise too_large(filename, size, limit)
        if head != b"From ":
            raise bad_file(filename, 'not an mbox archive: it must start with a "From " line')
        self.path = path
        self.total = 0  # counting would read the archive twice
        self.size = size

    def records(self, progress: Progress) -> Iterator[Parsed]:
        box = mailbox.mbox(str(self.path), create=False)
        try:
            for number, msg in enumerate(box.itervalues(), start=1):
                yield self._item(msg, number)
                progress(number, 0)
        finally:
            box.close()

    def _item(self, msg: Message, number: int) -> Parsed:
        where = f"message {number}"
        ids = _ids(_header(msg, "Message-ID"))
        if not ids:
            return Reject(self.filename, where, "missing Message-ID")
        origin = ids[0]
        where = f"message {number} <{origin[:80]}>"
        addresses = getaddresses([_header(msg, "From")])
        name, email = addresses[0] if addresses else ("", "")
        email = email.strip().lower()
        if "@" not in email:
            return Reject(self.filename, where, f"no sender address in From: {_header(msg, 'From')[:80]!r}")
        raw_date = _header(msg, "Date")
        try:
            when = parsedate_to_datetime(raw_date)
            if when.tzinfo is None:
                when = parse_when(raw_date)
        except (TypeError, ValueError, IndexError):
            try:
                when = parse_when(raw_date)
            except ValueError as exc:
                return Reject(self.filename, where, f"Date: {exc}")
        try:
            body = _body(msg)
        except ValueError as exc:
            return Reject(self.filename, where, str(exc))
        references = _ids(_header(msg, "References"))
        reply_to = _ids(_header(msg, "In-Reply-To"))
        parent = reply_to[0] if reply_to else (references[-1] if references else "")
        thread = references[0] if references else (parent or origin)
        list_id = _header(msg, "List-Id")
        space = list_id.split("<")[-1].rstrip(">") if "<" in list_id else (list_id or Path(self.filename).name)
        return Item(
            origin_id=fit_id(origin),
            kind="reply" if parent else "post",
            author=Author(key=email, name=name.strip() or email.split("@")[0], email=email),
            occurred_at=when,
            text=body,
            title=clip(_header(msg, "Subject"), 500),
            space=clip(space, 200),
            parent_origin=fit_id(parent),
            thread_origin=fit_id(thread),
        )
