"""The detector's model for the tests: the built one when it matches the corpus, else a fresh one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convenor.charter import detector


def _corpus_digest() -> str:
    examples = [e for p in detector.training_paths() if p.is_file() for e in detector.read_jsonl(p)[0]]
    return detector.corpus_digest(detector._dedupe(examples))


@pytest.fixture(scope="session")
def charter_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model file built from the current corpus, trained at most once per test session."""
    from django.conf import settings

    built = Path(settings.CHARTER_MODEL_PATH)
    try:
        if detector.Model.load(built).digest == _corpus_digest():
            return built  # `make test` builds it first (the charter-model target)
    except detector.ModelUnavailable:
        pass
    path = tmp_path_factory.mktemp("charter") / "charter-model.joblib"
    detector.train(detector.training_paths()).save(path)
    return path


@pytest.fixture
def charter_model(charter_model_file: Path, settings: Any) -> Iterator[detector.Model]:
    settings.CHARTER_MODEL_PATH = charter_model_file
    detector.reset_cache()
    yield detector.get_model()
    detector.reset_cache()
