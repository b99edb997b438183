"""`convenor charter check`, `eval` and `train`."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from convenor import cli
from convenor.charter import detector
from convenor.charter.detector import Model


def test_check_reads_stdin_and_prints_reasons(
    charter_model: Model, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("Drop me a DM for our rate card, only 3 pilot slots left!"))
    assert cli.main(["charter", "check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("promotional (probability")
    assert "call to action: 'DM me'" in out or "call to action: 'Drop me a DM'" in out

    monkeypatch.setattr("sys.stdin", io.StringIO("Where are the docs for the export?"))
    assert cli.main(["charter", "check", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["promotional"] is False and 0 <= data["probability"] < 0.5
    assert set(data) == {"probability", "promotional", "threshold", "reasons"}


def test_check_refuses_empty_input(
    charter_model: Model, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("  \n"))
    with pytest.raises(SystemExit) as exit_:
        cli.main(["charter", "check"])
    assert exit_.value.code == 1
    assert "text is empty" in capsys.readouterr().err


def test_check_without_a_model_says_how_to_build_it(
    tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.CHARTER_MODEL_PATH = tmp_path / "missing.joblib"
    detector.reset_cache()
    monkeypatch.setattr("sys.stdin", io.StringIO("hello"))
    with pytest.raises(SystemExit):
        cli.main(["charter", "check"])
    assert "run `convenor charter train`" in capsys.readouterr().err
    detector.reset_cache()


def _write(path: Path, rows: list[object]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def test_eval_prints_metrics_for_promotional(
    charter_model: Model, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows: list[object] = [
        {"text": "70% off everything this weekend only, use code BIG70!", "label": "promotional"},
        {"text": "Book a demo of our platform today, link below", "label": "promotional"},
        {"text": "How do I export my invoices to CSV?", "label": "community"},
        {"text": "Thanks everyone for the help yesterday, it works now.", "label": "community"},
    ]
    path = _write(tmp_path / "eval.jsonl", rows)
    assert cli.main(["charter", "eval", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"n": 4, "precision": 1.0, "recall": 1.0, "f1": 1.0, "false_positive_rate": 0.0}


def test_eval_reports_bad_lines_with_their_numbers(
    charter_model: Model, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows: list[object] = [
        {"text": "How do I export my invoices to CSV?", "label": "community"},
        "{broken json",
        {"text": "hello", "label": "maybe"},
        {"label": "community"},
    ]
    path = _write(tmp_path / "eval.jsonl", rows)
    assert cli.main(["charter", "eval", str(path), "--json"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out)["n"] == 1
    assert "line 2: not JSON" in captured.err
    assert "line 3: label must be" in captured.err
    assert "line 4: text must be a string" in captured.err


def test_eval_of_a_missing_file_is_an_error(charter_model: Model, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["charter", "eval", "/nonexistent/x.jsonl", "--json"])
    assert "no such file" in capsys.readouterr().err


def test_train_builds_the_model_and_prints_heldout_metrics(
    tmp_path: Path, settings: Any, capsys: pytest.CaptureFixture[str], charter_model_file: Path
) -> None:
    settings.CHARTER_MODEL_PATH = tmp_path / "charter-model.joblib"
    detector.reset_cache()
    assert cli.main(["charter", "train"]) == 0
    out = capsys.readouterr().out
    assert "heldout" in out and "independent" in out and "f1=" in out
    built = Model.load(tmp_path / "charter-model.joblib")
    # The same corpus gives the same model as the one the other tests use.
    assert built.digest == Model.load(charter_model_file).digest
    detector.reset_cache()
