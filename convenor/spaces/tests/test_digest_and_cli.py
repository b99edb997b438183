from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from convenor import cli
from convenor.core.models import DigestFrequency
from convenor.core.notify import prefs_for
from convenor.core.testing import World
from convenor.spaces.models import Space, Visibility
from convenor.spaces.services import digests_send, follow_set, space_join, thread_create


def test_weekly_digest_lists_new_threads_once_per_period(world: World, lounge: Space) -> None:
    space_join(space=lounge, member=world.globex_member)  # joining follows the space
    thread_create(space=lounge, author=world.acme_member, title="Release notes?", body="Where are they?")
    mail.outbox.clear()
    assert digests_send(frequency="weekly") >= 1
    digest = next(m for m in mail.outbox if world.globex_user.email in m.to)
    assert "Release notes?" in digest.body
    assert "Unsubscribe" in digest.body and digest.extra_headers["List-Unsubscribe-Post"]
    mail.outbox.clear()
    assert digests_send(frequency="weekly") == 0  # not again within the week
    later = timezone.now() + dt.timedelta(days=8)
    assert digests_send(frequency="weekly", now=later) == 0  # nothing new since


def test_digest_respects_the_chosen_frequency(world: World, lounge: Space) -> None:
    prefs = prefs_for(world.globex_user)
    prefs.digest = DigestFrequency.NEVER
    prefs.save()
    follow_set(member=world.globex_member, space=lounge, on=True)
    thread_create(space=lounge, author=world.acme_member, title="Anything", body="new")
    mail.outbox.clear()
    digests_send(frequency="weekly")
    assert not [m for m in mail.outbox if world.globex_user.email in m.to]


def test_spaces_create_from_the_command_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["spaces", "create", "Partner lounge", "--frame", "community"]) == 0
    assert Space.objects.get(name="Partner lounge").visibility == Visibility.MEMBERS
    assert cli.main(["spaces", "create", "Globex room", "--frame", "community", "--visibility", "account",
                     "--organization", "globex"]) == 0  # fmt: skip
    assert Space.objects.get(name="Globex room").organization == world.globex
    with pytest.raises(SystemExit) as exc:
        cli.main(["spaces", "create", "X", "--frame", "community", "--visibility", "account"])
    assert exc.value.code == 1
    assert "account space belongs to one organisation" in capsys.readouterr().err
    assert cli.main(["spaces", "list"]) == 0
    assert "partner-lounge" in capsys.readouterr().out
    assert cli.main(["notify", "digest", "--frequency", "daily"]) == 0
