"""Fixtures for the feedback tests: boards of each visibility, a post and imported outside
posts to turn into ideas."""

from __future__ import annotations

from pathlib import Path

import pytest

from convenor.core.testing import World
from convenor.feedback.models import Board, BoardVisibility
from convenor.feedback.services import board_create
from convenor.listening.models import OutsidePost
from convenor.listening.services import import_file
from convenor.spaces.models import Space, Thread
from convenor.spaces.services import thread_create


@pytest.fixture
def public_board(world: World) -> Board:
    return board_create(name="Product ideas", visibility=BoardVisibility.PUBLIC, creator=world.admin_member)


@pytest.fixture
def members_board(world: World) -> Board:
    return board_create(name="Members' wishes", visibility=BoardVisibility.MEMBERS, creator=world.admin_member)


@pytest.fixture
def acme_board(world: World) -> Board:
    return board_create(
        name="Acme roadmap", visibility=BoardVisibility.ACCOUNT, organization=world.acme, creator=world.admin_member
    )


@pytest.fixture
def lounge_thread(world: World, lounge: Space) -> Thread:
    return thread_create(
        space=lounge,
        author=world.acme_member,
        title="Exporting reports",
        body="It would help us a lot if reports could be exported to CSV for our finance team.",
    )


REVIEWS_CSV = """id,author,email,rating,title,text,date,url,site
rv-1,Dana Li,dana@initech.example,3,Needs CSV export,"Good engine, but we need to export reports to CSV for our finance team.",2026-01-20,https://reviews.example.com/r/1,G2
rv-2,Carla Acme,carla@acme.example,4,Dark mode please,"Solid product. A dark mode would help our night shift.",2026-02-03,https://reviews.example.com/r/2,G2
rv-3,Omar Haddad,,2,Too pricey,"Works, but the price jumped at renewal.",2026-02-20,https://reviews.example.com/r/3,Capterra
"""


@pytest.fixture
def outside_posts(world: World, tmp_path: Path) -> dict[str, OutsidePost]:
    """Three reviews imported through the real importer, by origin id: Dana Li (an observed
    person), Carla Acme (a member, matched by email) and Omar Haddad (observed)."""
    path = tmp_path / "g2-reviews.csv"
    path.write_text(REVIEWS_CSV, encoding="utf-8")
    run = import_file(importer="reviews", path=path, source_name="G2 reviews")
    assert run.created == 3, run.error
    return {p.origin_id: p for p in OutsidePost.objects.select_related("source", "author")}
