"""Imports end to end: one idempotent path into the activity log, identity resolution,
mentions and share of voice, hangouts, recorded runs, and files that write nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from convenor.activity.models import Activity, Verb
from convenor.core.errors import ApplicationError, ErrorCode
from convenor.core.testing import World
from convenor.listening import selectors, services, slack_export
from convenor.listening.models import BrandMention, ImportRun, OutsidePost, Rejection, RunStatus, Source
from convenor.listening.slack_export import generate
from convenor.people.models import Identity, Member, MergeSuggestion, Role
from convenor.people.services import identity_add, member_create

from .conftest import SAMPLES, Brands

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, int, int, int, int]:
    return (
        OutsidePost.objects.count(),
        Activity.objects.count(),
        Member.objects.count(),
        Identity.objects.count(),
        BrandMention.objects.count(),
    )


def test_importing_the_same_file_twice_adds_nothing(world: World, brands: Brands, slack_zip: Path) -> None:
    first = services.import_file(importer="slack", path=slack_zip)
    assert (first.status, first.created, first.rejected, first.skipped) == (RunStatus.DONE, 5, 1, 2)
    after_first = _counts()
    second = services.import_file(importer="slack", path=slack_zip)
    assert (second.created, second.updated, second.skipped, second.activities) == (0, 0, 7, 0)
    assert _counts() == after_first
    assert second.source_id == first.source_id


def test_slack_import_records_the_activities_with_verbs_and_targets(
    world: World, brands: Brands, slack_zip: Path
) -> None:
    run = services.import_file(importer="slack", path=slack_zip)
    source = run.source
    assert source is not None and source.conduit == "chat" and source.key == "slack:acme-communityzip"
    log = Activity.objects.filter(source=source.key)
    carla = world.acme_member  # matched by email
    nina = Member.objects.get(identities__source=source.key, identities__external_id="U02")
    assert log.filter(verb=Verb.MESSAGED).count() == 3
    replies = log.filter(verb=Verb.REPLIED)
    assert set(replies.values_list("target_member", flat=True)) == {carla.pk}
    reactions = log.filter(verb=Verb.REACTED)
    assert reactions.count() == 2 and set(reactions.values_list("target_member", flat=True)) == {carla.pk}
    mention = log.get(verb=Verb.MENTIONED, actor=carla)
    assert mention.target_org_id == world.ours.pk
    assert mention.object_id is not None
    post = OutsidePost.objects.get(pk=mention.object_id)
    assert mention.object_kind == "outside_post" and mention.place_kind == "conduit" and mention.place_id == source.pk
    assert post.text.startswith("Anyone running Northwind")
    assert nina.observed and nina.email == "nina@globex.example"
    # Slack lines are scored only when they name a brand.
    assert OutsidePost.objects.get(origin_id="C02:1772323200.000100").sentiment is None
    painful = OutsidePost.objects.get(origin_id="C01:1769904300.000400").sentiment
    assert painful is not None and painful < 0  # slow and painful


def test_identity_resolution_by_email_handle_and_name_at_organisation(
    world: World, brands: Brands, slack_zip: Path
) -> None:
    # By handle in that source: Omar has no email, but an identity with his handle exists.
    omar = member_create(name="Omar H.", role=Role.CUSTOMER)
    source = services.source_create(name="acme-community.zip", importer="slack")
    identity_add(member=omar, source=source.key, external_id="U-old", handle="omar")
    # By name at the organisation: Nina's email domain is Globex's and a Nina Novak works there.
    nina = member_create(name="Nina Novak", role=Role.CUSTOMER, organization=world.globex)
    # An uncertain namesake: "Globe Person" exists with no organisation, and U04 has no email.
    namesake = member_create(name="Globe Person", role=Role.OTHER)
    members_before = Member.objects.count()
    run = services.import_file(importer="slack", path=slack_zip, source=source)
    ids = dict(Identity.objects.filter(source=source.key).values_list("external_id", "member_id"))
    assert ids["U01"] == world.acme_member.pk
    assert ids["U02"] == nina.pk
    assert ids["U03"] == omar.pk
    observed = Member.objects.get(pk=ids["U04"])
    assert observed.observed and observed.name == "Globe Person" and observed.pk != namesake.pk
    assert Member.objects.count() == members_before + 1 and run.people_created == 1
    suggestion = MergeSuggestion.objects.get()
    assert {suggestion.member_a_id, suggestion.member_b_id} == {namesake.pk, observed.pk}
    assert "acme-community.zip" in suggestion.detail
    assert observed in selectors.observed_people()


def test_observed_people_get_the_role_and_place_of_their_email_domain(world: World, brands: Brands) -> None:
    services.import_file(importer="rss", path=SAMPLES / "notes.atom")
    lena = Member.objects.get(email="lena@globex.example")
    assert lena.observed and lena.role == Role.CUSTOMER and not lena.consent_to_contact
    assert lena.affiliations.get().organization == world.globex


def test_every_importer_lands_in_one_log_and_a_rerun_changes_nothing(world: World, brands: Brands) -> None:
    files = [
        ("rss", SAMPLES / "blog.rss"),
        ("rss", SAMPLES / "notes.atom"),
        ("discourse", SAMPLES / "discourse"),
        ("mbox", SAMPLES / "list.mbox"),
        ("reviews", SAMPLES / "reviews.csv"),
        ("reviews", SAMPLES / "reviews.json"),
    ]
    runs = [services.import_file(importer=kind, path=path) for kind, path in files]
    assert [r.created for r in runs] == [3, 2, 6, 4, 3, 2]
    assert [r.rejected for r in runs] == [0, 0, 1, 2, 4, 2]
    verbs = set(Activity.objects.exclude(source="convenor").values_list("verb", flat=True))
    assert verbs == {Verb.PUBLISHED, Verb.REPLIED, Verb.REVIEWED, Verb.MENTIONED}
    rejection = Rejection.objects.get(run=runs[4], position="line 8")
    assert rejection.file.endswith("reviews.csv") and rejection.reason == "rating 9 is outside 0 to 5"
    before = _counts()
    again = [services.import_file(importer=kind, path=path) for kind, path in files]
    assert [r.created + r.updated for r in again] == [0] * 6
    assert _counts() == before
    # A discourse topic first seen in the topic list is completed, not duplicated.
    assert OutsidePost.objects.filter(origin_id="topic:101").count() == 1


def test_a_changed_record_is_updated_and_its_mentions_found_again(world: World, brands: Brands, tmp_path: Path) -> None:
    path = tmp_path / "g2.csv"
    path.write_text("id,author,rating,title,text,date\nr1,Dana,5,Nice,Contoso is great,2026-01-02\n")
    services.import_file(importer="reviews", path=path)
    assert list(BrandMention.objects.values_list("organization", flat=True)) == [brands.contoso.pk]
    path.write_text("id,author,rating,title,text,date\nr1,Dana,4,Nice,Northwind is great,2026-01-02\n")
    run = services.import_file(importer="reviews", path=path)
    assert (run.created, run.updated) == (0, 1)
    assert list(BrandMention.objects.values_list("organization", flat=True)) == [brands.ours.pk]
    assert OutsidePost.objects.get().rating == 4


def test_a_file_that_cannot_be_read_writes_nothing_but_its_failed_run(world: World, brands: Brands) -> None:
    before = (_counts(), Source.objects.count())
    with pytest.raises(ApplicationError) as err:
        services.import_file(importer="rss", path=SAMPLES / "bomb.xml")
    assert err.value.code == ErrorCode.BAD_FILE
    assert (_counts(), Source.objects.count()) == before
    run = ImportRun.objects.get()
    assert run.status == RunStatus.FAILED and run.source is None and "XML bombs" in run.error
    assert "bomb.xml" in services.run_summary(run)


def test_a_csv_with_an_unclosed_quote_writes_nothing_and_says_where_the_quote_opened(
    world: World, brands: Brands, tmp_path: Path
) -> None:
    path = tmp_path / "g2.csv"
    path.write_text(
        "author,rating,title,text,date\n"
        "Ann,5,Fine,Works well with Contoso,2026-01-01\n"
        'Bob,4,"Good, mostly,It does the job,2026-01-02\n'
        "Cy,3,Meh,Slow on Mondays,2026-01-03\n"
    )
    before = (_counts(), Source.objects.count())
    with pytest.raises(ApplicationError) as err:
        services.import_file(importer="reviews", path=path)
    assert err.value.code == ErrorCode.BAD_FILE
    assert (_counts(), Source.objects.count()) == before
    run = ImportRun.objects.get()
    assert run.status == RunStatus.FAILED and not run.rejections.exists()
    assert "the quote that opens a field on line 3 is never closed" in services.run_summary(run)


def test_nul_characters_are_dropped_so_postgresql_takes_the_file(world: World, brands: Brands, tmp_path: Path) -> None:
    """A JSON "\\u0000" or a zero byte in a CSV used to fail the whole batch on PostgreSQL."""
    reviews = tmp_path / "nul.json"
    reviews.write_text(
        json.dumps(
            [
                {
                    "author": "Nul\u0000 Man",
                    "rating": 4,
                    "title": "t\u0000",
                    "text": "a\u0000b Contoso",
                    "date": "2026-01-01",
                }
            ]
        )
    )
    csv_file = tmp_path / "nul.csv"
    csv_file.write_bytes(b"author,rating,title,text,date,url\nZed,5,t,te\x00xt,2026-01-01,\n")
    chat = slack_export.write(
        tmp_path / "nul.zip",
        users=[slack_export.user("U1", "Ann\u0000 Lee", "ann@globex.example", "ann")],
        channels=[{"id": "C1", "name": "gen\u0000eral"}],
        days={("general", "2026-01-02"): [{"type": "message", "user": "U1", "text": "o\u0000k", "ts": "1767312000.1"}]},
    )
    runs = [
        services.import_file(importer="reviews", path=reviews),
        services.import_file(importer="reviews", path=csv_file),
        services.import_file(importer="slack", path=chat),
    ]
    assert [(r.status, r.created, r.rejected) for r in runs] == [(RunStatus.DONE, 1, 0)] * 3
    texts = sorted(OutsidePost.objects.values_list("title", "text", "author__name"))
    assert texts == [("", "ok", "Ann Lee"), ("t", "ab Contoso", "Nul Man"), ("t", "text", "Zed")]
    assert not any("\x00" in t for row in texts for t in row)


def test_values_longer_than_their_columns_are_cut_and_a_rerun_adds_nothing(
    world: World, brands: Brands, tmp_path: Path
) -> None:
    """PostgreSQL refuses a value longer than its column (SQLite never checks): a 600-character
    author used to fail the whole batch there."""
    path = tmp_path / "long.json"
    row = {
        "author": "A" * 600,
        "email": "b" * 300 + "@example.com",
        "rating": 4,
        "text": "ok",
        "date": "2026-01-01",
        "id": "x" * 600,
        "site": "s" * 400,
        "url": "https://x.example/" + "u" * 2000,
    }
    path.write_text(json.dumps([row]))
    run = services.import_file(importer="reviews", path=path)
    assert (run.status, run.created, run.rejected) == (RunStatus.DONE, 1, 0)
    post = OutsidePost.objects.select_related("author").get()
    assert (len(post.origin_id), len(post.space), len(post.url)) == (255, 200, 1000)
    assert len(post.author.name) == 200 and post.author.email is None  # no address is 300 characters
    before = _counts()
    again = services.import_file(importer="reviews", path=path)
    assert (again.created, again.updated) == (0, 0) and _counts() == before


def test_long_origin_ids_sharing_a_long_prefix_stay_apart(world: World, brands: Brands, tmp_path: Path) -> None:
    """Cut at 255 characters, two ids sharing their first 300 were one: the second review
    was taken for the first, and each mention's id ("<id>:mention:<org>") was cut back to
    the review's own, so the mention was dropped as a duplicate of the review."""
    prefix = "https://reviews.example/" + "p" * 276
    assert len(prefix) == 300
    path = tmp_path / "long-ids.json"
    path.write_text(
        json.dumps(
            [
                {"id": prefix + "/1", "author": "Ann", "rating": 2, "text": "Contoso is slow", "date": "2026-01-01"},
                {"id": prefix + "/2", "author": "Bob", "rating": 4, "text": "Contoso is fine", "date": "2026-01-02"},
            ]
        )
    )
    run = services.import_file(importer="reviews", path=path)
    assert (run.status, run.created, run.skipped, run.rejected) == (RunStatus.DONE, 2, 0, 0)
    posts = list(OutsidePost.objects.order_by("occurred_at"))
    assert [p.text for p in posts] == ["Contoso is slow", "Contoso is fine"]
    assert all(len(p.origin_id) == 255 and p.origin_id.startswith(prefix[:200]) for p in posts)
    assert posts[0].origin_id != posts[1].origin_id
    assert run.source is not None
    verbs = sorted(Activity.objects.filter(source=run.source.key).values_list("verb", flat=True))
    assert verbs == [Verb.MENTIONED, Verb.MENTIONED, Verb.REVIEWED, Verb.REVIEWED]
    assert run.activities == 4
    before = _counts()
    again = services.import_file(importer="reviews", path=path)
    assert (again.created, again.updated, again.skipped) == (0, 0, 2) and _counts() == before


def test_share_of_voice_per_conduit_segment_and_month(world: World, brands: Brands) -> None:
    for kind, path in [
        ("rss", SAMPLES / "blog.rss"),
        ("reviews", SAMPLES / "reviews.csv"),
        ("mbox", SAMPLES / "list.mbox"),
    ]:
        services.import_file(importer=kind, path=path)
    sov = selectors.share_of_voice(by="conduit")
    ours = BrandMention.objects.filter(ours=True).count()
    theirs = BrandMention.objects.filter(ours=False).count()
    assert (sov.ours, sov.competitors) == (ours, theirs) and ours > 0 and theirs > 0
    assert sov.share == round(ours / (ours + theirs), 4)
    assert {r["key"] for r in sov.rows} == {"blog", "reviews", "mailing_list"}
    assert sum(r["ours"] for r in sov.rows) == ours
    assert [t["key"] for t in sov.trend] == ["2026-01", "2026-02", "2026-03"]
    assert sov.trend_change == round(sov.trend[-1]["share"] - sov.trend[0]["share"], 4)
    by_industry = selectors.share_of_voice(by="segment", segment="industry")
    labels = {r["label"] for r in by_industry.rows}
    assert "Retail" in labels and "Logistics" in labels  # Jo (acme) and Max (globex) by email domain
    by_role = selectors.share_of_voice(by="segment", segment="role")
    assert "Customer" in {r["label"] for r in by_role.rows}
    assert selectors.share_of_voice(by="month").rows == sov.trend


def test_alias_changes_recount_mentions(world: World, brands: Brands) -> None:
    services.import_file(importer="rss", path=SAMPLES / "blog.rss")
    before = BrandMention.objects.filter(ours=True).count()
    services.brand_alias_add(organization=brands.ours, alias="scheduler")
    assert BrandMention.objects.filter(ours=True).count() == before  # same post already counted
    services.brand_alias_add(organization=brands.ours, alias="streaming joins")
    assert BrandMention.objects.filter(ours=True).count() == before + 1
    with pytest.raises(ApplicationError) as err:
        services.brand_alias_add(organization=brands.contoso, alias="Streaming Joins")
    assert err.value.code == ErrorCode.DUPLICATE
    with pytest.raises(ApplicationError) as err:
        services.brand_alias_add(organization=world.acme, alias="acme thing")
    assert err.value.code == ErrorCode.VALIDATION


def test_hangouts_answer_where_each_segment_talks(world: World, brands: Brands, slack_zip: Path) -> None:
    services.import_file(importer="slack", path=slack_zip)
    services.import_file(importer="rss", path=SAMPLES / "notes.atom")
    segments = {s.name: s for s in selectors.hangouts(segment="organization")}
    acme = segments["Acme"]
    places = {(p.conduit, p.space): p for p in acme.places}
    assert set(places) == {("chat", "#general"), ("blog", "Ops Notes")} and acme.best in acme.places
    assert "nightly backfills" in places[("chat", "#general")].topics
    assert places[("blog", "Ops Notes")].sentiment is not None
    globex = segments["Globex"]
    assert {(p.conduit, p.space) for p in globex.places} >= {("chat", "#general"), ("blog", "Ops Notes")}
    by_industry = {s.name for s in selectors.hangouts(segment="industry")}
    assert {"Retail", "Logistics"} <= by_industry


def _sqlite_count(db: Path, table: str) -> int:
    try:
        with sqlite3.connect(db, timeout=5) as conn:
            return int(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])  # noqa: S608  # fixed names
    except sqlite3.OperationalError:
        return 0


def _cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONVENOR_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "convenor.cli", *args], env=env, capture_output=True, text=True, check=False
    )


def test_an_import_killed_mid_way_and_run_again_ends_like_one_clean_run(tmp_path: Path) -> None:
    export = tmp_path / "export.zip"
    generate(export, people=400, messages=12000, channels=4, seed=3)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for data in (clean, killed):
        assert _cli(data, "migrate").returncode == 0
    assert _cli(clean, "import", "slack", str(export)).returncode == 0

    env = {**os.environ, "CONVENOR_DATA_DIR": str(killed)}
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "convenor.cli", "import", "slack", str(export)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = killed / "convenor.sqlite3"
    deadline = time.monotonic() + 240
    while _sqlite_count(db, "listening_outsidepost") == 0 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    part = _sqlite_count(db, "listening_outsidepost")
    assert 0 < part < 12000, part  # killed part-way, whole batches only
    assert _sqlite_count(db, "activity_activity") > 0
    resumed = _cli(killed, "import", "slack", str(export))
    assert resumed.returncode == 0, resumed.stderr
    assert f"{12000 - part:,} created" in resumed.stdout

    def state(data: Path) -> list[Any]:
        with sqlite3.connect(data / "convenor.sqlite3") as conn:
            return [
                conn.execute("SELECT COUNT(*), COUNT(DISTINCT origin_id) FROM listening_outsidepost").fetchone(),
                conn.execute("SELECT verb, COUNT(*) FROM activity_activity GROUP BY verb ORDER BY verb").fetchall(),
                conn.execute("SELECT COUNT(*), SUM(observed) FROM people_member").fetchone(),
                conn.execute("SELECT COUNT(*) FROM people_identity").fetchone(),
                conn.execute("SELECT COUNT(*) FROM listening_brandmention").fetchone(),
            ]

    assert state(killed) == state(clean)


def test_a_long_import_keeps_no_query_log_even_with_debug_on(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Memory must not grow with the export: Django's query log (DEBUG, the default install)
    # would keep every batch's SQL up to 9,000 queries.
    from django.db import connection, reset_queries

    from convenor.listening import pipeline

    settings.DEBUG = True
    monkeypatch.setattr(pipeline, "BATCH", 50)
    export = tmp_path / "export.zip"
    generate(export, people=40, messages=1000, channels=2, seed=5)
    reset_queries()
    run = services.import_file(importer="slack", path=export)
    assert run.created == 1000
    logged = len(connection.queries)
    assert 0 < logged < 40, logged  # the run's last steps only, not 20 batches' worth


def test_observed_people_appear_on_the_map(world: World, brands: Brands, slack_zip: Path) -> None:
    from convenor.graph.models import Node, NodeKind
    from convenor.graph.services import build_map

    services.import_file(importer="slack", path=slack_zip)
    observed = set(Member.objects.filter(observed=True).values_list("pk", flat=True))
    assert observed  # Nina, Omar and the others nobody knew
    latest = Activity.objects.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    assert latest is not None
    build_map(window_days=365, now=latest + timedelta(days=1))
    on_map = set(Node.objects.filter(kind=NodeKind.MEMBER).values_list("ref_id", flat=True))
    assert observed <= on_map
    assert Node.objects.filter(kind=NodeKind.CONDUIT).exists()  # the Slack workspace, a place
