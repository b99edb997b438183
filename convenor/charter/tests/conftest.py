"""The detector's model for the tests: the built one when it matches the corpus, else a fresh one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from convenor.charter import detector


@pytest.fixture
def charter_model(charter_model_file: Path, settings: Any) -> Iterator[detector.Model]:
    settings.CHARTER_MODEL_PATH = charter_model_file
    detector.reset_cache()
    yield detector.get_model()
    detector.reset_cache()
