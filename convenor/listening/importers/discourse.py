"""A Discourse forum, as its JSON API returns it: ``/latest.json`` (the topic list and
its users), ``/t/{id}.json`` (a topic with its posts) and, when an admin exported it,
``/admin/users/list/active.json?show_emails=true`` (users with their emails).

A file may be any one of these documents, or a directory or zip holding ``latest.json``,
``t/{id}.json`` files and ``users.json``. From a URL (the forum's address) the importer
fetches ``latest.json`` and then each topic in it. A topic's first post has the origin id
``topic:{id}``, the others ``post:{id}``, so a topic first seen in the topic list (title
only) is completed, not duplicated, when its posts arrive.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from convenor.listening.importers.base import (
    Author,
    Item,
    Parsed,
    Parser,
    Progress,
    Reject,
    bad_file,
    check_document_size,
    clip,
    decode_text,
    html_to_text,
    parse_when,
)

MAX_TOPICS_PER_FETCH = 200


def load_json(data: bytes, name: str) -> Any:
    check_document_size(name, len(data))
    text = decode_text(data, name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad_file(name, f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}") from None


def _kind(doc: Any) -> str:
    if isinstance(doc, dict) and isinstance(doc.get("post_stream"), dict):
        return "topic"
    if isinstance(doc, dict) and isinstance(doc.get("topic_list"), dict):
        return "latest"
    if isinstance(doc, list) and all(isinstance(u, dict) and "username" in u for u in doc):
        return "users"
    if isinstance(doc, dict) and isinstance(doc.get("users"), list):
        return "users"
    return ""


class DiscourseParser(Parser):
    def __init__(
        self,
        documents: list[tuple[str, Any]],
        filename: str,
        *,
        base_url: str = "",
        fetch_topic: Callable[[int], tuple[str, Any]] | None = None,
    ) -> None:
        self.filename = filename
        self.base_url = base_url.rstrip("/")
        self.users: dict[str, Author] = {}
        self.by_id: dict[int, str] = {}
        self.latest: list[tuple[str, dict[str, Any]]] = []
        self.topics: list[tuple[str, Any]] = []
        self.fetch_topic = fetch_topic
        for name, doc in documents:
            kind = _kind(doc)
            if kind == "users":
                self._users(doc if isinstance(doc, list) else doc["users"])
            elif kind == "latest":
                self._users(doc.get("users") or [])
                self.latest.extend((name, t) for t in doc["topic_list"].get("topics") or [] if isinstance(t, dict))
            elif kind == "topic":
                self.topics.append((name, doc))
            else:
                raise bad_file(name, "not a Discourse document: expected latest.json, t/{id}.json or a users list")
        known = {t.get("id") for _, t in self.topics}
        self.to_fetch = [t for _, t in self.latest if t.get("id") not in known][:MAX_TOPICS_PER_FETCH]
        self.total = len(self.latest) + len(self.topics) + (len(self.to_fetch) if fetch_topic else 0)

    @classmethod
    def from_path(cls, path: Path, filename: str) -> DiscourseParser:
        docs: list[tuple[str, Any]] = []
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.json") if p.is_file())
            if not files:
                raise bad_file(filename, "the folder holds no .json files")
            for p in files:
                docs.append(
                    (
                        f"{filename}/{p.relative_to(path)}",
                        load_json(p.read_bytes(), f"{filename}/{p.relative_to(path)}"),
                    )
                )
        elif zipfile.is_zipfile(path):
            from convenor.listening.importers.slack import SlackParser  # the same archive checks

            with zipfile.ZipFile(path) as zf:
                checker = SlackParser.__new__(SlackParser)
                checker.zf, checker.filename = zf, filename
                checker._check_archive()
                for info in zf.infolist():
                    if info.filename.endswith(".json") and not info.is_dir():
                        docs.append(
                            (
                                f"{filename}:{info.filename}",
                                load_json(checker._read(info), f"{filename}:{info.filename}"),
                            )
                        )
        else:
            docs.append((filename, load_json(path.read_bytes(), filename)))
        return cls(docs, filename)

    def _users(self, users: list[Any]) -> None:
        for u in users:
            if not isinstance(u, dict) or not u.get("username"):
                continue
            username = str(u["username"])
            have = self.users.get(username.lower())
            email = str(u.get("email") or (have.email if have else "")).strip().lower()
            name = str(u.get("name") or (have.name if have else "") or username).strip()
            self.users[username.lower()] = Author(key=username.lower(), name=name, email=email, handle=username)
            if isinstance(u.get("id"), int):
                self.by_id[u["id"]] = username.lower()

    def _author(self, username: str, name: str = "") -> Author:
        key = username.lower()
        return self.users.get(key) or Author(key=key, name=name or username, handle=username)

    def _url(self, slug: str, topic_id: object, number: object = None) -> str:
        if not self.base_url:
            return ""
        return f"{self.base_url}/t/{slug or 'topic'}/{topic_id}" + (f"/{number}" if number else "")

    def _topic_head(self, name: str, topic: dict[str, Any], number: int) -> Parsed:
        where = f"topic {number}"
        tid = topic.get("id")
        if not isinstance(tid, int):
            return Reject(name, where, "missing topic id")
        posters = topic.get("posters") or []
        op = next((p for p in posters if isinstance(p, dict) and "Original Poster" in str(p.get("description"))), None)
        op = op or (posters[0] if posters and isinstance(posters[0], dict) else None)
        poster_id = op.get("user_id") if op else None
        username = self.by_id.get(poster_id) if isinstance(poster_id, int) else None
        if not username:
            return Reject(name, f"topic {tid}", "no original poster among the topic list's users")
        try:
            when = parse_when(topic.get("created_at"))
        except ValueError as exc:
            return Reject(name, f"topic {tid}", str(exc))
        return Item(
            origin_id=f"topic:{tid}",
            kind="post",
            author=self._author(username),
            occurred_at=when,
            title=clip(str(topic.get("title") or topic.get("fancy_title") or ""), 500),
            url=self._url(str(topic.get("slug") or ""), tid),
            space=f"category {topic.get('category_id')}" if topic.get("category_id") is not None else "",
            thread_origin=f"topic:{tid}",
        )

    def _topic_posts(self, name: str, doc: dict[str, Any]) -> Iterator[Parsed]:
        tid = doc.get("id")
        posts = doc["post_stream"].get("posts") or []
        number_to_origin: dict[int, str] = {}
        space = f"category {doc.get('category_id')}" if doc.get("category_id") is not None else ""
        for index, post in enumerate(posts, start=1):
            where = f"topic {tid}, post {index}"
            if not isinstance(post, dict):
                yield Reject(name, where, "expected a post object")
                continue
            missing = [k for k in ("id", "username", "created_at") if post.get(k) in (None, "")]
            if missing:
                yield Reject(name, where, f"missing {', '.join(missing)}")
                continue
            try:
                when = parse_when(post["created_at"])
            except ValueError as exc:
                yield Reject(name, where, str(exc))
                continue
            number = post.get("post_number")
            origin = f"topic:{tid}" if number == 1 else f"post:{post['id']}"
            if isinstance(number, int):
                number_to_origin[number] = origin
            reply_to = post.get("reply_to_post_number")
            parent = number_to_origin.get(reply_to, "") if isinstance(reply_to, int) else ""
            if number != 1 and not parent:
                parent = f"topic:{tid}"
            yield Item(
                origin_id=origin,
                kind="post" if number == 1 else "reply",
                author=self._author(str(post["username"]), str(post.get("name") or "")),
                occurred_at=when,
                text=html_to_text(str(post.get("cooked") or post.get("raw") or "")),
                title=clip(str(doc.get("title") or ""), 500) if number == 1 else "",
                url=self._url(str(doc.get("slug") or ""), tid, number),
                space=space,
                thread_origin=f"topic:{tid}",
                parent_origin=parent,
            )

    def records(self, progress: Progress) -> Iterator[Parsed]:
        done = 0
        with_posts = {d.get("id") for _, d in self.topics}
        if self.fetch_topic is not None:
            # Fetched below; a topic whose fetch fails falls back to its line in the list.
            with_posts |= {t.get("id") for t in self.to_fetch}
        heads = {t.get("id"): (name, t, n) for n, (name, t) in enumerate(self.latest, start=1)}
        for number, (name, topic) in enumerate(self.latest, start=1):
            if topic.get("id") not in with_posts:
                yield self._topic_head(name, topic, number)
            done += 1
            progress(done, self.total)
        for name, doc in self.topics:
            yield from self._topic_posts(name, doc)
            done += 1
            progress(done, self.total)
        if self.fetch_topic is None:
            return
        for topic in self.to_fetch:
            try:
                name, doc = self.fetch_topic(int(topic["id"]))
            except Exception as exc:  # one topic that fails is one rejection
                yield Reject(
                    f"{self.base_url}/t/{topic.get('id')}.json", "whole topic", getattr(exc, "message", str(exc))
                )
                if topic.get("id") in heads:
                    yield self._topic_head(*heads[topic.get("id")])
            else:
                if _kind(doc) == "topic":
                    yield from self._topic_posts(name, doc)
                else:
                    yield Reject(name, "whole topic", "not a Discourse topic document")
            done += 1
            progress(done, self.total)
