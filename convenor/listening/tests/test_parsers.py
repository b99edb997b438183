"""The parsers on real sample files in the formats those systems document, and on bad
input: each problem is a clear error naming the file and the record."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from convenor.core.errors import ApplicationError, ErrorCode
from convenor.listening.importers.base import Item, Reject, Skip, fit_id, parse_when
from convenor.listening.importers.discourse import DiscourseParser
from convenor.listening.importers.mbox import MboxParser
from convenor.listening.importers.reviews import ReviewsParser
from convenor.listening.importers.rss import RssParser
from convenor.listening.importers.slack import SlackParser

from .conftest import SAMPLES, slack_days, slack_users


def _all(parser: Any) -> list[Any]:
    return list(parser.records(lambda done, total: None))


def _items(records: list[Any]) -> list[Item]:
    return [r for r in records if isinstance(r, Item)]


def test_rss_posts_with_authors_dates_and_text() -> None:
    records = _all(RssParser((SAMPLES / "blog.rss").read_bytes(), "blog.rss"))
    items = _items(records)
    assert [i.title for i in items] == [
        "Why we moved our pipelines to Northwind",
        "Streaming joins without tears",
        "Contoso Flow 5 first look",
    ]
    first = items[0]
    assert first.author.name == "Priya Raman"
    assert first.origin_id == "https://plumbing.example.org/?p=101"
    assert first.occurred_at.isoformat() == "2026-01-12T09:30:00+00:00"
    assert "twenty minutes" in first.text and "<" not in first.text
    assert items[2].occurred_at.isoformat() == "2026-03-04T07:15:00+00:00"  # +0100 taken into account
    assert all(i.kind == "post" and i.space == "Data Plumbing Weekly" for i in items)


def test_rss_comment_feeds_are_followed_when_a_fetcher_is_given() -> None:
    fetched: list[str] = []

    def fetch(url: str) -> bytes:
        fetched.append(url)
        return (SAMPLES / "blog-comments.rss").read_bytes()

    items = _items(_all(RssParser((SAMPLES / "blog.rss").read_bytes(), "blog.rss", fetch_comments=fetch)))
    assert fetched == ["https://plumbing.example.org/2026/01/moved-to-northwind/feed/"]
    replies = [i for i in items if i.kind == "reply"]
    assert [r.author.name for r in replies] == ["Carla Acme", "Sam Ortiz"]
    assert {r.parent_origin for r in replies} == {"https://plumbing.example.org/?p=101"}


def test_atom_threading_makes_replies() -> None:
    items = _items(_all(RssParser((SAMPLES / "notes.atom").read_bytes(), "notes.atom")))
    post, reply = items
    assert post.kind == "post" and post.author.email == "lena@globex.example"
    assert reply.kind == "reply" and reply.parent_origin == post.origin_id
    assert reply.author.email == "carla@acme.example"


@pytest.mark.parametrize(
    ("sample", "expected"),
    [
        ("bomb.xml", "bomb.xml: refused: the XML declares entities"),
        ("malformed.rss", "malformed.rss: malformed XML at line 6"),
        ("latin1.rss", "latin1.rss: malformed XML at line 2"),
    ],
)
def test_xml_bombs_malformed_xml_and_wrong_encodings_are_refused(sample: str, expected: str) -> None:
    with pytest.raises(ApplicationError) as err:
        RssParser((SAMPLES / sample).read_bytes(), sample)
    assert err.value.code == ErrorCode.BAD_FILE
    assert err.value.message.startswith(expected)


def test_a_document_that_is_not_a_feed_is_refused() -> None:
    with pytest.raises(ApplicationError, match="not an RSS or Atom feed"):
        RssParser(b"<?xml version='1.0'?><html><body>hi</body></html>", "page.html")


def test_an_oversize_feed_is_refused(settings: Any) -> None:
    settings.LISTENING_MAX_DOCUMENT_BYTES = 100
    with pytest.raises(ApplicationError) as err:
        RssParser((SAMPLES / "blog.rss").read_bytes(), "blog.rss")
    assert err.value.code == ErrorCode.TOO_LARGE and "blog.rss" in err.value.message


def test_reviews_csv_takes_good_lines_and_names_each_bad_one() -> None:
    records = _all(ReviewsParser((SAMPLES / "reviews.csv").read_bytes(), "reviews.csv"))
    items = _items(records)
    assert [i.origin_id for i in items] == ["g2-5501", "g2-5502", "g2-5503"]
    assert items[1].occurred_at.date().isoformat() == "2026-02-20"  # 20/02/2026
    assert items[2].occurred_at.date().isoformat() == "2026-03-03"  # "March 3 2026"
    assert "Multi-line review text" in items[2].text and items[2].rating == 4
    rejects = {r.position: r.reason for r in records if isinstance(r, Reject)}
    assert rejects == {
        "line 6": "missing author",
        "line 7": "unreadable date 'sometime last spring'",
        "line 8": "rating 9 is outside 0 to 5",
        "line 9": "not UTF-8 text (byte 11 of the line)",
    }
    assert all(r.file == "reviews.csv" for r in records if isinstance(r, Reject))


def test_reviews_json_accepts_odd_ratings_and_unix_dates() -> None:
    records = _all(ReviewsParser((SAMPLES / "reviews.json").read_bytes(), "reviews.json"))
    items = _items(records)
    assert [(i.origin_id, i.rating) for i in items] == [("tp-1", 4.0), ("tp-2", 1.0)]
    assert items[0].occurred_at.isoformat() == "2026-02-14T08:00:00+00:00"
    assert items[1].occurred_at.year == 2026
    rejects = [(r.position, r.reason) for r in records if isinstance(r, Reject)]
    assert rejects == [("record 3", "missing date"), ("record 4", "expected an object, found a string")]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b'{"reviews": [{"author": "A", "rating": 5,', "truncated.json: invalid JSON at line 1"),
        (b"[1, 2", "truncated.json: invalid JSON"),
        (b'{"items": []}', 'expected a list of reviews, or an object with a "reviews" list'),
        (b"author,text\nA,B\n", "line 1: missing column(s) rating, date"),
        (b"", "the file is empty"),
        ('[{"author": "Ren\xe9"}]'.encode("latin-1"), "not UTF-8 text: byte 16 (line 1)"),
        ('[{"author": "Ren\xe9"}]'.encode("utf-16"), "the file is UTF-16 text"),
        ("author,rating,text,date\n".encode("utf-16"), "save it as UTF-8"),
    ],
)
def test_reviews_files_that_cannot_be_read_at_all(data: bytes, message: str) -> None:
    with pytest.raises(ApplicationError) as err:
        ReviewsParser(data, "truncated.json")
    assert err.value.code == ErrorCode.BAD_FILE
    assert message in err.value.message and err.value.message.startswith("truncated.json: ")


UNCLOSED = (
    b"author,rating,title,text,date\n"
    b"Ann,5,Fine,Works well,2026-01-01\n"
    b'Bob,4,"Good, mostly,It does the job,2026-01-02\n'
    b"Cy,3,Meh,Slow on Mondays,2026-01-03\n"
    b'Di,2,Poor,"Two\nlines",2026-01-04\n'
)


def test_a_reviews_csv_with_an_unclosed_quote_is_refused_naming_the_line() -> None:
    """Line 3's quote swallowed lines 3 to 5 into one field (closed by line 5's quote),
    which used to be reported as line 3's "missing date" while line 2 was imported."""
    with pytest.raises(ApplicationError) as err:
        ReviewsParser(UNCLOSED, "reviews.csv")
    assert err.value.code == ErrorCode.BAD_FILE
    assert err.value.message == (
        "reviews.csv: malformed CSV: the quote that opens a field on line 3 is never closed, so everything "
        'up to line 5 would be read as that one field (a quote inside a quoted field is written twice: "")'
    )


def test_an_unclosed_quote_that_runs_to_the_end_of_the_file_is_refused() -> None:
    # Far more than the csv module's field size limit (131,072 characters) follows the quote.
    tail = b"".join(b"Reviewer %d,4,Title,Some text,2026-01-01\n" % n for n in range(5000))
    data = b"author,rating,title,text,date\n" + UNCLOSED.splitlines(keepends=True)[1] * 2 + b'Bob,4,"Good\n' + tail
    with pytest.raises(ApplicationError) as err:
        ReviewsParser(data, "reviews.csv")
    assert "the quote that opens a field on line 4 is never closed, so everything up to the end of the file" in (
        err.value.message
    )


def test_quotes_that_close_on_a_later_line_or_are_doubled_are_read() -> None:
    data = (
        b"author,rating,title,text,date\n"
        b'Ann,5,"Say ""hi""","Line one\nline two",2026-01-01\n'
        b'Bob,4,Plain,He said "fine",2026-01-02\n'
    )
    items = _items(_all(ReviewsParser(data, "reviews.csv")))
    assert [(i.title, i.text) for i in items] == [('Say "hi"', "Line one\nline two"), ("Plain", 'He said "fine"')]


def test_discourse_topics_posts_and_users() -> None:
    parser = DiscourseParser.from_path(SAMPLES / "discourse", "forum")
    records = _all(parser)
    items = _items(records)
    by_origin = {i.origin_id: i for i in items}
    assert set(by_origin) == {"topic:101", "post:9002", "post:9003", "topic:102", "post:9103", "topic:103"}
    assert by_origin["topic:101"].title.startswith("Northwind vs Contoso")
    assert by_origin["topic:101"].author.email == "max.hoffmann@globex.example"  # from users.json
    assert by_origin["post:9002"].parent_origin == "topic:101"
    assert by_origin["post:9003"].parent_origin == "post:9002"  # reply_to_post_number 2
    assert by_origin["topic:103"].text == ""  # only in the topic list
    assert by_origin["post:9002"].space == "category 5"
    (reject,) = [r for r in records if isinstance(r, Reject)]
    assert reject.file == "forum/t/102.json" and reject.position == "topic 102, post 2"
    assert "not a date" in reject.reason


def test_discourse_refuses_other_json() -> None:
    with pytest.raises(ApplicationError, match="not a Discourse document"):
        DiscourseParser([("x.json", {"hello": 1})], "x.json")


def test_mbox_threads_from_message_id_in_reply_to_and_references() -> None:
    records = _all(MboxParser(SAMPLES / "list.mbox", "list.mbox"))
    items = {i.origin_id: i for i in _items(records)}
    assert set(items) == {"a1@lists.example.org", "m2@acme.example", "m3@globex.example", "m6@acme.example"}
    assert items["a1@lists.example.org"].kind == "post"
    assert items["m2@acme.example"].parent_origin == "a1@lists.example.org"
    # No In-Reply-To: the last of References is the parent, the first is the thread.
    assert items["m3@globex.example"].parent_origin == "m2@acme.example"
    assert items["m3@globex.example"].thread_origin == "a1@lists.example.org"
    assert "café" in items["m3@globex.example"].text  # declared iso-8859-1
    assert "> We upgraded" not in items["m2@acme.example"].text  # quoted text left out
    assert items["a1@lists.example.org"].space == "data-users.lists.example.org"
    assert items["m6@acme.example"].occurred_at.isoformat() == "2026-03-05T10:00:00+00:00"  # odd date format
    rejects = [(r.position, r.reason) for r in records if isinstance(r, Reject)]
    assert rejects == [
        ("message 4", "missing Message-ID"),
        ("message 5 <m5@initech.example>", "the body is not utf-8 (byte 36)"),
    ]


def test_a_file_that_is_not_mbox_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    with pytest.raises(ApplicationError, match=r'notes\.txt: not an mbox archive: it must start with a "From " line'):
        MboxParser(path, "notes.txt")


def test_slack_export_messages_threads_reactions(slack_zip: Path) -> None:
    records = _all(SlackParser(str(slack_zip), "acme.zip"))
    items = _items(records)
    assert [i.origin_id for i in items] == [
        "C01:1769904100.000200",
        "C01:1769904200.000300",
        "C01:1769904300.000400",
        "C01:1769990400.000100",
        "C02:1772323200.000100",
    ]
    first, reply = items[0], items[1]
    assert first.kind == "message" and first.space == "#general"
    assert first.text == "Anyone running Northwind for nightly backfills? @nina"
    assert [(a.key, name) for a, name in first.reactions] == [("U02", "eyes"), ("U03", "eyes")]
    assert reply.kind == "reply" and reply.parent_origin == "C01:1769904100.000200"
    assert first.author.email == "carla@acme.example"
    assert items[3].text.endswith("See this")
    assert sum(isinstance(r, Skip) for r in records) == 2  # a join notice and a bot
    (reject,) = [r for r in records if isinstance(r, Reject)]
    assert reject.file == "acme.zip:general/2026-02-01.json" and reject.position == "message 6"
    assert reject.reason == "missing user"


def _zip(path: Path, members: dict[str, bytes], *, level: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", compression=level) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _basic() -> dict[str, bytes]:
    return {"users.json": json.dumps(slack_users()).encode(), "channels.json": b'[{"id": "C01", "name": "general"}]'}


def test_slack_day_file_with_truncated_json_is_one_rejection(tmp_path: Path) -> None:
    good = json.dumps(slack_days()[("general", "2026-02-02")]).encode()
    path = _zip(
        tmp_path / "x.zip",
        {**_basic(), "general/2026-02-01.json": b'[{"type": "message", "user": "U01"', "general/2026-02-02.json": good},
    )
    records = _all(SlackParser(str(path), "x.zip"))
    assert len(_items(records)) == 1
    (reject,) = [r for r in records if isinstance(r, Reject)]
    assert reject.file == "x.zip:general/2026-02-01.json"
    assert reject.position.startswith("line 1, column") and reject.reason.startswith("invalid JSON")


def test_slack_day_file_entries_that_are_not_messages_are_named_in_json_terms(tmp_path: Path) -> None:
    path = _zip(tmp_path / "x.zip", {**_basic(), "general/2026-02-01.json": b'[1, "x", null, []]'})
    rejects = [(r.position, r.reason) for r in _all(SlackParser(str(path), "x.zip")) if isinstance(r, Reject)]
    assert [reason.rsplit("found ", 1)[1] for _, reason in rejects] == ["a number", "a string", "null", "an array"]


def test_slack_zip_bomb_is_refused_before_reading(tmp_path: Path) -> None:
    path = _zip(tmp_path / "bomb.zip", {**_basic(), "general/2026-02-01.json": b"[" + b" " * 5_000_000 + b"]"})
    with pytest.raises(ApplicationError) as err:
        SlackParser(str(path), "bomb.zip")
    assert err.value.code == ErrorCode.BAD_FILE
    assert "general/2026-02-01.json expands" in err.value.message and "zip bombs" in err.value.message


def test_slack_archive_past_the_total_size_limit_is_refused(tmp_path: Path, settings: Any) -> None:
    settings.LISTENING_MAX_ARCHIVE_BYTES = 1000
    path = _zip(
        tmp_path / "big.zip",
        {**_basic(), "general/2026-02-01.json": json.dumps(slack_days()[("general", "2026-02-01")]).encode()},
    )
    with pytest.raises(ApplicationError) as err:
        SlackParser(str(path), "big.zip")
    assert err.value.code == ErrorCode.TOO_LARGE and "big.zip (uncompressed)" in err.value.message


@pytest.mark.parametrize("name", ["../evil.json", "/etc/passwd", "general/../../x.json", "C:\\evil.json"])
def test_slack_paths_escaping_the_archive_are_refused(tmp_path: Path, name: str) -> None:
    path = _zip(tmp_path / "evil.zip", {**_basic(), name: b"[]"})
    with pytest.raises(ApplicationError, match="escapes the archive"):
        SlackParser(str(path), "evil.zip")


def test_slack_exports_without_users_or_that_are_not_zips(tmp_path: Path) -> None:
    path = _zip(tmp_path / "nousers.zip", {"channels.json": b"[]"})
    with pytest.raises(ApplicationError, match=r"not a Slack export: users\.json is missing"):
        SlackParser(str(path), "nousers.zip")
    broken = tmp_path / "broken.zip"
    broken.write_bytes(path.read_bytes()[:40])
    with pytest.raises(ApplicationError, match=r"broken\.zip: not a readable zip archive"):
        SlackParser(str(broken), "broken.zip")
    bad_users = _zip(tmp_path / "badusers.zip", {"users.json": b"[{", "channels.json": b"[]"})
    with pytest.raises(ApplicationError, match=r"users\.json: invalid JSON at line 1"):
        SlackParser(str(bad_users), "badusers.zip")


@pytest.mark.parametrize(
    ("raw", "iso"),
    [
        ("2026-03-05", "2026-03-05T00:00:00+00:00"),
        ("Thu, 05 Mar 2026 10:00:00 +0100", "2026-03-05T09:00:00+00:00"),
        ("March 5, 2026 10am", "2026-03-05T10:00:00+00:00"),
        ("1772704800", "2026-03-05T10:00:00+00:00"),
        (1772704800.5, "2026-03-05T10:00:00.500000+00:00"),
        ("1772704800000", "2026-03-05T10:00:00+00:00"),  # milliseconds
        (1772704800000, "2026-03-05T10:00:00+00:00"),
        ("20260305", "2026-03-05T00:00:00+00:00"),  # a date without separators, not 1970
    ],
)
def test_dates_in_odd_formats(raw: object, iso: str) -> None:
    assert parse_when(raw).isoformat() == iso


@pytest.mark.parametrize("raw", ["", None, "soon", "32/13/2026", "20260231", "99999999999999999", 1e20])
def test_unreadable_dates_say_what_they_were(raw: object) -> None:
    with pytest.raises(ValueError, match="date"):
        parse_when(raw)


def test_json_reviews_with_objects_where_text_belongs_are_rejected() -> None:
    data = json.dumps(
        [
            {"author": {"name": "Ann"}, "rating": 4, "text": "ok", "date": "2026-01-01"},
            {"author": "Bo", "rating": 4, "text": ["a", "b"], "date": "2026-01-01"},
            {"author": "Cy", "rating": 4, "text": "fine", "date": "9999999999999999"},
            {"author": "Di", "rating": 4, "text": "fine", "date": "2026-01-01", "extra": {"kept": "out"}},
        ]
    ).encode()
    records = _all(ReviewsParser(data, "odd.json"))
    assert [i.author.name for i in _items(records)] == ["Di"]
    rejects = [(r.position, r.reason) for r in records if isinstance(r, Reject)]
    assert rejects == [
        ("record 1", "author: expected text, found an object"),
        ("record 2", "text: expected text, found an array"),
        ("record 3", "unreadable date '9999999999999999' (a Unix time out of range)"),
    ]


def test_an_html_only_mail_is_read_as_text(tmp_path: Path) -> None:
    path = tmp_path / "html.mbox"
    path.write_bytes(
        b"From x Mon Jan  1 00:00:00 2026\nFrom: Cat <cat@c.example>\nMessage-ID: <h1@c>\n"
        b"Date: 3 Feb 2026\nContent-Type: multipart/alternative; boundary=XX\n\n--XX\n"
        b"Content-Type: text/html; charset=iso-8859-1\n\n"
        b"<html><head><style>p {color: red}</style></head><p>Caf\xe9 and <b>Northwind</b></p></html>\n--XX--\n"
    )
    (item,) = _items(_all(MboxParser(path, "html.mbox")))
    assert item.text == "Café and Northwind"


def test_ids_too_long_for_their_column_keep_their_start_and_a_digest_of_the_whole() -> None:
    shared = "x" * 300
    a, b = fit_id(shared + "a"), fit_id(shared + "b")
    assert len(a) == len(b) == 255 and a != b
    assert a.startswith(shared[:222] + "~") and a == fit_id(shared + "a")  # the same every run
    assert fit_id("short") == "short" and fit_id("y" * 255) == "y" * 255
    assert fit_id(a) == a  # fitting twice changes nothing
    assert len(fit_id("\ud800" * 300)) == 255  # a lone surrogate from JSON is no error
