"""Fixtures shared by every test: the small world, and logged-in clients."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from convenor.core.testing import World, build_world
from convenor.spaces.models import Frame, Space, Visibility
from convenor.spaces.services import account_space_create, space_create


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings: Any) -> None:
    # PBKDF2's deliberate slowness would dominate the suite's run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    # The page cache lives in process memory; ids come back after a test's rollback.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def world(db: None) -> World:
    return build_world()


@pytest.fixture
def admin_client(world: World) -> Client:
    c = Client()
    c.force_login(world.admin)
    return c


@pytest.fixture
def acme_client(world: World) -> Client:
    c = Client()
    c.force_login(world.acme_user)
    return c


@pytest.fixture
def globex_client(world: World) -> Client:
    c = Client()
    c.force_login(world.globex_user)
    return c


@pytest.fixture
def lounge(world: World) -> Space:
    """A members-only community space moderated by the admin."""
    return space_create(
        name="Users lounge", frame=Frame.COMMUNITY, visibility=Visibility.MEMBERS, creator=world.admin_member
    )


@pytest.fixture
def acme_space(world: World) -> Space:
    """Acme's private account space: Carla is invited, Gus at Globex must never see it."""
    return account_space_create(organization=world.acme, creator=world.admin_member)
