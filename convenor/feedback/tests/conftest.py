"""Fixtures for the feedback tests: boards of each visibility and a post to turn into an idea."""

from __future__ import annotations

import pytest

from convenor.core.testing import World
from convenor.feedback.models import Board, BoardVisibility
from convenor.feedback.services import board_create
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
