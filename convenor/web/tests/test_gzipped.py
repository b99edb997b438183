"""Pages gzip-compressed from parts compressed once (convenor/web/gzipped.py): the stream is
valid gzip and holds exactly the page a client without gzip gets."""

from __future__ import annotations

import gzip
import random
import re
import zlib

import pytest
from django.test import Client
from django.urls import reverse

from convenor.core.testing import World
from convenor.spaces.models import Frame, Space, Visibility
from convenor.spaces.services import post_reply, reaction_toggle, space_create, thread_create
from convenor.web import gzipped, views_spaces

GZIP = {"Accept-Encoding": "gzip, deflate, br"}


def _inflate(data: bytes) -> bytes:
    """As a browser reads it: zlib's gzip decoder, fed in small pieces, which must end the stream."""
    decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out = b"".join(decoder.decompress(data[i : i + 997]) for i in range(0, len(data), 997))
    out += decoder.flush()
    assert decoder.eof and not decoder.unused_data
    return out


def test_kept_and_fresh_parts_join_into_one_valid_gzip_stream() -> None:
    rng = random.Random(7)
    words = [b"post", b"reply", b"\xf0\x9f\x91\x8d", b"<button>", b"Acme", b"lag"]
    texts = [b" ".join(rng.choice(words) for _ in range(rng.randrange(0, 9000))) for _ in range(12)]
    parts: list[gzipped.Part] = []
    for i, text in enumerate(texts):
        # Kept (compressed once), short own bytes (stored), long own bytes (compressed now).
        parts.append(gzipped.deflate(text) if i % 3 == 0 else text)
        parts.append(b"")
        parts.append(b"csrf-token-%d" % i)
    expected = b"".join(p.plain if isinstance(p, gzipped.Deflated) else p for p in parts)
    assert any(len(t) > gzipped.FRESH_STORED_MAX for t in texts[1::3])
    stream = gzipped.join(parts)
    assert gzip.decompress(stream) == expected == gzipped.plain(parts)
    assert _inflate(stream) == expected
    assert len(stream) < len(expected) / 3
    # Nothing at all, and a single kept part, are valid streams too.
    assert gzip.decompress(gzipped.join([])) == b""
    assert gzip.decompress(gzipped.join([gzipped.deflate(b"ok")])) == b"ok"


def test_a_long_kept_part_carries_any_crc_over_it_as_zlib_does() -> None:
    """Its CRC and its length's effect on a CRC before it are kept (gzipped._crc_after)."""
    rng = random.Random(11)
    for n in (gzipped.CRC_KEPT_MIN - 1, gzipped.CRC_KEPT_MIN, 5_003, 70_000):
        text = rng.randbytes(n)
        part = gzipped.deflate(text)
        assert (part.shift is None) == (n < gzipped.CRC_KEPT_MIN)
        for start in (0, 1, 0xFFFFFFFF, 0x80000000, *(rng.getrandbits(32) for _ in range(20))):
            assert gzipped._crc_after(part, start) == zlib.crc32(text, start), (n, start)
    # Long kept parts between a reader's own bytes: the stream still checks out.
    parts: list[gzipped.Part] = []
    for i in range(6):
        parts += [b"reader %d " % i, gzipped.deflate(rng.randbytes(9_000 + i))]
    assert _inflate(gzipped.join(parts)) == gzipped.plain(parts)


def test_kept_parts_that_go_together_make_one_kept_part() -> None:
    rng = random.Random(5)
    parts = [gzipped.deflate(rng.randbytes(n)) for n in (100, 9_000, 17_000, 3)]
    run = gzipped.concat(parts)
    assert run.plain == b"".join(p.plain for p in parts) and run.shift is not None
    for around in ([], [b"before "], [b"before ", gzipped.deflate(b"kept before")]):
        assert _inflate(gzipped.join([*around, run, b" after"])) == gzipped.plain([*around, *parts, b" after"])
    assert gzipped.join([gzipped.concat([])]) == gzipped.join([])


def _untokened(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


@pytest.fixture
def square(world: World) -> Space:
    return space_create(
        name="Town square", frame=Frame.COMMUNITY, visibility=Visibility.PUBLIC, creator=world.admin_member
    )


def test_a_readers_kept_thread_page_compressed_is_their_page(
    globex_client: Client, world: World, square: Space
) -> None:
    thread = thread_create(space=square, author=world.acme_member, title="Kafka lag", body="Opening", kind="discussion")
    replies = [
        post_reply(thread=thread, author=world.globex_member if i == 3 else world.acme_member, body=f"Reply {i}")
        for i in range(3 * views_spaces.POST_GROUP)
    ]
    # Globex wrote reply 3 (Edit) and reacted in the second group; the third has nothing of theirs.
    reaction_toggle(post=replies[views_spaces.POST_GROUP + 2], member=world.globex_member, kind="thanks")
    url = reverse("web:thread_detail", args=[thread.pk])
    for _ in range(2):  # kept on the first view, from the kept parts on the second
        zipped = globex_client.get(url, headers=GZIP)
        plain = globex_client.get(url)
        assert zipped.status_code == plain.status_code == 200
        assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
        assert not plain.has_header("Content-Encoding") and "Accept-Encoding" in plain["Vary"]
        html = _inflate(zipped.content).decode()
        assert _untokened(html) == _untokened(plain.content.decode())
        assert html.count('class="chip mine" aria-pressed="true"') == 1
        assert f'href="{reverse("web:post_edit", args=[replies[3].pk])}">Edit</a>' in html
        assert len(zipped.content) < len(plain.content) / 3


def test_a_space_page_and_an_anonymous_cached_page_compressed(
    globex_client: Client, world: World, square: Space
) -> None:
    thread = thread_create(space=square, author=world.acme_member, title="Kafka lag", body="Opening", kind="discussion")
    anonymous = Client()
    for client, url in (
        (globex_client, reverse("web:space_detail", args=[square.slug])),
        (anonymous, reverse("web:thread_detail", args=[thread.pk])),
        (anonymous, reverse("web:space_detail", args=[square.slug])),
    ):
        for _ in range(2):
            zipped = client.get(url, headers=GZIP)
            plain = client.get(url)
            assert zipped["Content-Encoding"] == "gzip", url
            assert _untokened(_inflate(zipped.content).decode()) == _untokened(plain.content.decode())
            assert zipped["Content-Type"] == plain["Content-Type"] == "text/html; charset=utf-8"
    assert anonymous.get(url, headers=GZIP)["X-Convenor-Cache"] == "hit"
