"""The `convenor import ...` and `convenor listen ...` commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from convenor.cli import main
from convenor.core.testing import World
from convenor.listening.models import BrandAlias, ImporterKind, ImportRun, Rejection, RunStatus, Source

from .conftest import SAMPLES, Brands, Served

pytestmark = pytest.mark.django_db


def test_import_commands_print_the_run_and_its_rejections(
    world: World, brands: Brands, slack_zip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "reviews", str(SAMPLES / "reviews.csv")]) == 0
    out, err = capsys.readouterr()
    assert "3 created, 0 updated, 0 skipped, 4 rejected" in out
    assert "reviews.csv line 8: rating 9 is outside 0 to 5" in err
    assert "import reviews: 7/7 rows (100%)" in err  # the progress report
    for args in (
        ["rss", str(SAMPLES / "blog.rss")],
        ["discourse", str(SAMPLES / "discourse")],
        ["mbox", str(SAMPLES / "list.mbox")],
        ["slack", str(slack_zip)],
    ):
        assert main(["import", *args]) == 0
    assert Source.objects.count() == 5
    assert main(["import", "slack", str(slack_zip)]) == 0
    assert "0 created, 0 updated, 7 skipped, 1 rejected" in capsys.readouterr().out


def test_bad_files_are_one_clear_line_without_a_traceback(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["import", "rss", str(SAMPLES / "bomb.xml")])
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith("convenor: error: ") and "bomb.xml: refused" in err and "Traceback" not in err
    with pytest.raises(SystemExit):
        main(["import", "slack", str(SAMPLES / "missing.zip")])
    assert "missing.zip: no such file" in capsys.readouterr().err


def test_listen_sov_json_by_conduit(world: World, brands: Brands, capsys: pytest.CaptureFixture[str]) -> None:
    main(["import", "rss", str(SAMPLES / "blog.rss")])
    capsys.readouterr()
    assert main(["listen", "sov", "--by", "conduit", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["by"] == "conduit" and data["rows"][0]["key"] == "blog"
    assert data["ours"] == 1 and data["competitors"] == 2 and data["share"] == round(1 / 3, 4)
    assert main(["listen", "sov", "--by", "segment", "--segment", "role"]) == 0
    assert "Share of voice:" in capsys.readouterr().out
    assert main(["listen", "hangouts", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["places"]


def test_listen_sources_runs_run_and_aliases(world: World, brands: Brands, capsys: pytest.CaptureFixture[str]) -> None:
    main(["import", "reviews", str(SAMPLES / "reviews.json")])
    run = ImportRun.objects.get()
    capsys.readouterr()
    assert main(["listen", "sources", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["posts"] == 2
    assert main(["listen", "runs", "--problems"]) == 0
    assert "reviews.json" in capsys.readouterr().out
    assert main(["listen", "run", str(run.pk), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rejections"][0] == {
        "file": str(SAMPLES / "reviews.json"),
        "position": "record 3",
        "reason": "missing date",
    }
    assert main(["listen", "alias-add", "Contoso", "CFlow"]) == 0
    assert BrandAlias.objects.filter(alias="CFlow").exists()
    assert main(["listen", "alias-remove", "Contoso", "cflow"]) == 0
    assert not BrandAlias.objects.filter(alias="CFlow").exists()
    assert main(["listen", "aliases"]) == 0
    assert "Contoso (competitor): Contoso Flow" in capsys.readouterr().out
    assert main(["listen", "rebuild-mentions"]) == 0


def test_listen_run_without_json_lists_every_rejection(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    run = ImportRun.objects.create(
        importer=ImporterKind.REVIEWS, filename="big.csv", status=RunStatus.DONE, created=1, rejected=25
    )
    Rejection.objects.bulk_create(
        Rejection(run=run, file="big.csv", position=f"line {i}", reason="missing date") for i in range(2, 27)
    )
    assert main(["listen", "run", str(run.pk)]) == 0
    out, err = capsys.readouterr()
    assert "big.csv: 1 created" in out
    assert err.count("rejected: big.csv line ") == 25 and "big.csv line 26: missing date" in err
    assert "more (see" not in err


def test_listen_add_and_refresh(world: World, http_server: Served, capsys: pytest.CaptureFixture[str]) -> None:
    url = http_server.add("/r.json", (SAMPLES / "reviews.json").read_bytes())
    assert main(["listen", "add", "Trust", "--importer", "reviews", "--url", url, "--refresh", "30"]) == 0
    assert main(["listen", "refresh"]) == 0
    assert "2 created" in capsys.readouterr().out
    assert main(["listen", "refresh"]) == 0
    assert "No source is due." in capsys.readouterr().out
    assert main(["listen", "refresh", "--source", "Trust"]) == 0
    assert "0 created, 0 updated, 2 skipped" in capsys.readouterr().out


def test_an_unexpected_failure_prints_one_line_and_no_traceback(
    world: World, brands: Brands, monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """A bug met mid-import (here VADER, a library, breaking) fails the run with one line."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    def broken(self: object, text: str) -> dict[str, float]:
        raise RuntimeError("lexicon missing")

    monkeypatch.setattr(SentimentIntensityAnalyzer, "polarity_scores", broken)
    with pytest.raises(SystemExit) as exit_:
        main(["import", "reviews", str(SAMPLES / "reviews.csv")])
    assert exit_.value.code == 1
    _, err = capfd.readouterr()
    assert "convenor: error: The import failed: RuntimeError: lexicon missing" in err
    assert "Traceback" not in err
    run = ImportRun.objects.get()
    assert run.status == "failed" and run.error == "RuntimeError: lexicon missing"
