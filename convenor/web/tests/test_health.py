"""The health endpoint for load balancers."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext


@pytest.mark.django_db
def test_healthz_answers_ok_without_touching_the_database() -> None:
    with CaptureQueriesContext(connection) as queries:
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok"
    assert len(queries) == 0


def test_waitress_does_not_write_a_line_for_every_queued_request() -> None:
    """Its "Task queue depth" warning comes for most requests under load (settings.LOGGING)."""
    assert not logging.getLogger("waitress.queue").isEnabledFor(logging.WARNING)
    assert logging.getLogger("waitress.queue").isEnabledFor(logging.ERROR)
