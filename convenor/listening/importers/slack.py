"""A Slack workspace export (the zip Slack's "Export data" gives): ``users.json``,
``channels.json`` (and ``groups.json`` for private channels when present), and one folder
per channel holding a JSON file per day, each a list of messages with threads
(``thread_ts``) and ``reactions``.

The archive is read member by member, never extracted. Before anything is imported every
member's path and declared size is checked: a path that would escape the archive, a total
past LISTENING_MAX_ARCHIVE_BYTES or a compression ratio past LISTENING_MAX_COMPRESSION_RATIO
(a zip bomb) refuses the whole file. Each member is then read with a cap at its declared
size, so a member that lies about its size is caught while reading.
"""

from __future__ import annotations

import json
import re
import zipfile
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import IO, Any

from django.conf import settings

from convenor.listening.importers.base import (
    Author,
    Item,
    Parsed,
    Parser,
    Progress,
    Reject,
    Skip,
    bad_file,
    clip,
    json_kind,
    parse_when,
    too_large,
)

# Notices rather than things people said.
SKIPPED_SUBTYPES = frozenset(
    {
        "channel_join",
        "channel_leave",
        "channel_topic",
        "channel_purpose",
        "channel_name",
        "channel_archive",
        "channel_unarchive",
        "group_join",
        "group_leave",
        "bot_message",
        "pinned_item",
        "unpinned_item",
        "tombstone",
        "message_deleted",
        "reminder_add",
    }
)
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}\.json$")
_USER_REF = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
_LINK = re.compile(r"<(https?://[^|>]+)(?:\|([^>]*))?>")
_CHANNEL_REF = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")
SMALL_MEMBER = 1024 * 1024  # below this a high ratio is harmless (a day of repeated joins)


def _check_name(name: str, filename: str) -> None:
    path = PurePosixPath(name)
    if name.startswith(("/", "\\")) or "\\" in name or ".." in path.parts or re.match(r"^[A-Za-z]:", name):
        raise bad_file(filename, f"refused: the member {name!r} has a path that escapes the archive")


class SlackParser(Parser):
    def __init__(self, fh: IO[bytes] | str, filename: str) -> None:
        self.filename = filename
        try:
            self.zf = zipfile.ZipFile(fh)
        except zipfile.BadZipFile as exc:
            raise bad_file(filename, f"not a readable zip archive ({exc})") from None
        except OSError as exc:
            raise bad_file(filename, f"cannot read the archive ({exc})") from None
        self._check_archive()
        names = {i.filename for i in self.zf.infolist()}
        for required in ("users.json", "channels.json"):
            if required not in names:
                raise bad_file(filename, f"not a Slack export: {required} is missing")
        self.users = self._users()
        self.channels = self._channels(names)
        self.days = sorted(
            (
                i
                for i in self.zf.infolist()
                if not i.is_dir() and "/" in i.filename and _DAY.match(i.filename.rsplit("/", 1)[1])
            ),
            key=lambda i: i.filename,
        )
        self.total = len(self.days)

    def _check_archive(self) -> None:
        total = 0
        limit = settings.LISTENING_MAX_ARCHIVE_BYTES
        ratio = settings.LISTENING_MAX_COMPRESSION_RATIO
        doc_limit = settings.LISTENING_MAX_DOCUMENT_BYTES
        for info in self.zf.infolist():
            _check_name(info.filename, self.filename)
            total += info.file_size
            if info.file_size > doc_limit:
                raise too_large(f"{self.filename}:{info.filename}", info.file_size, doc_limit)
            if info.file_size > SMALL_MEMBER and info.file_size > ratio * max(info.compress_size, 1):
                raise bad_file(
                    self.filename,
                    f"refused: {info.filename} expands {info.file_size // max(info.compress_size, 1):,} times "
                    f"(the limit is {ratio}), as zip bombs do",
                )
        if total > limit:
            raise too_large(f"{self.filename} (uncompressed)", total, limit)

    def _read(self, info: zipfile.ZipInfo) -> bytes:
        with self.zf.open(info) as member:
            data = member.read(info.file_size + 1)
        if len(data) > info.file_size:
            raise bad_file(
                self.filename, f"refused: {info.filename} holds more than its declared {info.file_size:,} bytes"
            )
        return data

    def _json(self, name: str) -> Any:
        try:
            data = self._read(self.zf.getinfo(name))
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise bad_file(self.filename, f"{name}: damaged in the archive ({exc})") from None
        try:
            return json.loads(data.decode("utf-8-sig"))
        except UnicodeDecodeError as exc:
            raise bad_file(self.filename, f"{name}: not UTF-8 (byte {exc.start})") from None
        except json.JSONDecodeError as exc:
            raise bad_file(
                self.filename, f"{name}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}"
            ) from None

    def _users(self) -> dict[str, Author]:
        doc = self._json("users.json")
        if not isinstance(doc, list):
            raise bad_file(self.filename, "users.json: expected a list of users")
        users: dict[str, Author] = {}
        self.bots: set[str] = set()
        for u in doc:
            if not isinstance(u, dict) or not u.get("id"):
                continue
            profile: dict[str, Any] = u["profile"] if isinstance(u.get("profile"), dict) else {}
            uid = str(u["id"])
            if u.get("is_bot") or uid == "USLACKBOT":
                self.bots.add(uid)
            users[uid] = Author(
                key=uid,
                name=str(u.get("real_name") or profile.get("real_name") or u.get("name") or uid).strip(),
                email=str(profile.get("email") or "").strip().lower(),
                handle=str(u.get("name") or profile.get("display_name") or "").strip(),
            )
        return users

    def _channels(self, names: set[str]) -> dict[str, str]:
        out: dict[str, str] = {}
        for listing in ("channels.json", "groups.json"):
            if listing not in names:
                continue
            doc = self._json(listing)
            if not isinstance(doc, list):
                raise bad_file(self.filename, f"{listing}: expected a list of channels")
            for ch in doc:
                if isinstance(ch, dict) and ch.get("name"):
                    out[str(ch["name"])] = str(ch.get("id") or ch["name"])
        return out

    def _text(self, raw: str) -> str:
        def user(m: re.Match[str]) -> str:
            a = self.users.get(m.group(1))
            return f"@{a.handle or a.name}" if a else "@someone"

        text = _USER_REF.sub(user, raw)
        text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
        text = _CHANNEL_REF.sub(lambda m: f"#{m.group(1)}", text)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def _author(self, uid: str, msg: dict[str, Any]) -> Author:
        known = self.users.get(uid)
        if known is not None:
            return known
        profile: dict[str, Any] = msg["user_profile"] if isinstance(msg.get("user_profile"), dict) else {}
        return Author(key=uid, name=str(profile.get("real_name") or profile.get("name") or uid))

    def _message(self, msg: object, where: str, file: str, channel: str, channel_id: str) -> Parsed:
        if not isinstance(msg, dict):
            return Reject(file, where, f"expected a message object, found {json_kind(msg)}")
        if msg.get("subtype") in SKIPPED_SUBTYPES or (msg.get("bot_id") and not msg.get("user")):
            return Skip()
        uid = msg.get("user")
        ts = msg.get("ts")
        if not uid or not ts:
            return Reject(file, where, "missing " + " and ".join(k for k in ("user", "ts") if not msg.get(k)))
        uid, ts = str(uid), str(ts)
        if uid in self.bots:
            return Skip()
        try:
            when = parse_when(ts)
        except (ValueError, OverflowError, OSError):
            return Reject(file, where, f"unreadable ts {ts[:30]!r}")
        thread = str(msg.get("thread_ts") or "")
        parent = f"{channel_id}:{thread}" if thread and thread != ts else ""
        reactions: list[tuple[Author, str]] = []
        for r in msg.get("reactions") or []:
            if isinstance(r, dict):
                for reactor in r.get("users") or []:
                    if str(reactor) not in self.bots:
                        reactions.append((self._author(str(reactor), {}), str(r.get("name") or "")[:50]))
        origin = f"{channel_id}:{ts}"
        return Item(
            origin_id=origin,
            kind="reply" if parent else "message",
            author=self._author(uid, msg),
            occurred_at=when,
            text=self._text(str(msg.get("text") or "")),
            space=clip(f"#{channel}", 200),
            thread_origin=f"{channel_id}:{thread}" if thread else origin,
            parent_origin=parent,
            reactions=reactions,
        )

    def records(self, progress: Progress) -> Iterator[Parsed]:
        for number, info in enumerate(self.days, start=1):
            folder = info.filename.rsplit("/", 1)[0]
            channel = folder.rsplit("/", 1)[-1]
            channel_id = self.channels.get(channel, channel)
            file = f"{self.filename}:{info.filename}"
            try:
                doc = json.loads(self._read(info).decode("utf-8-sig"))
            except UnicodeDecodeError as exc:
                yield Reject(file, "whole file", f"not UTF-8 (byte {exc.start})")
                doc = None
            except json.JSONDecodeError as exc:
                yield Reject(file, f"line {exc.lineno}, column {exc.colno}", f"invalid JSON: {exc.msg}")
                doc = None
            except (zipfile.BadZipFile, EOFError, OSError) as exc:
                yield Reject(file, "whole file", f"damaged in the archive ({exc})")
                doc = None
            if doc is not None and not isinstance(doc, list):
                yield Reject(file, "whole file", "expected a list of messages")
            elif doc is not None:
                for index, msg in enumerate(doc, start=1):
                    yield self._message(msg, f"message {index}", file, channel, channel_id)
            progress(number, self.total)
