"""Django's database sessions, read with one plain query.

Every logged-in page reads its session first. Django's ``db`` engine does it through the
ORM, whose query building cost more than the query itself and about a fifth of a logged-in
thread page kept for readers alike (views_spaces.py). This engine reads the same row with
SQL written once; everything else (saving, expiry, cycling keys, clearsessions) is
Django's own. Sessions stay in the database rather than in a cache (``cached_db``): with
the default per-process cache, several ``convenor serve`` processes would each keep their
own copy, and a logout in one would not end the session in the others.

Settings: ``SESSION_ENGINE = "convenor.web.sessions"``.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DbSessionStore
from django.contrib.sessions.base_session import AbstractBaseSession
from django.core.exceptions import SuspiciousOperation
from django.db import connections, router
from django.utils import timezone

from convenor.core import sql
from convenor.core.access import row_columns
from convenor.core.memo import Memo
from convenor.core.models import User


class SessionStore(DbSessionStore):
    """The ``db`` engine, but `_get_session_from_db` in plain SQL (same row, same rule:
    the key matches and the session has not expired), and `load` decoding that row's data
    without making a Session instance of it first."""

    # The account the session's data named when it was last read in this process, and its row
    # read with the session's (see _session_row), for auth.session_user: (id, row or None).
    joined_user: tuple[int, tuple[Any, ...] | None] | None = None

    def _session_row(self) -> tuple[str, datetime] | None:
        """The session's data and expiry, or None (and no key) when it is gone or expired.

        When this process has read the session before, the account its data named then is
        read in the same query (every logged-in page reads both, and each query costs the
        threaded server a few hand-overs of Python's lock): `joined_user`, used by
        auth.session_user only if the data still names that account."""
        model = self.model
        try:
            key = self.session_key
            if key is None:
                return None
            connection = self._connection()
            table = connection.ops.quote_name(model._meta.db_table)
            now = connection.ops.adapt_datetimefield_value(timezone.now())
            user_id = _USER_OF.get(key)
            if user_id is None:
                row = sql.fetch(
                    f"SELECT session_data, expire_date FROM {table} WHERE session_key = %s AND expire_date > %s",  # noqa: S608  # the model's own table
                    [key, now],
                    one=True,
                )
            else:
                users = connection.ops.quote_name(User._meta.db_table)
                row = sql.fetch(
                    f"SELECT s.session_data, s.expire_date, {row_columns((User, 'u'))} FROM {table} s "  # noqa: S608  # the models' own tables and columns
                    f"LEFT JOIN {users} u ON u.id = %s WHERE s.session_key = %s AND s.expire_date > %s",
                    [user_id, key, now],
                    one=True,
                )
            if row is None:
                raise model.DoesNotExist
            if user_id is not None:
                self.joined_user = (user_id, None if row[2] is None else tuple(row[2:]))
            expire = row[1]
            if settings.USE_TZ and timezone.is_naive(expire):
                # SQLite gives the stored UTC time without its zone, as the ORM would not.
                expire = timezone.make_aware(expire, connection.timezone)
            return row[0], expire
        except (model.DoesNotExist, SuspiciousOperation) as e:
            if isinstance(e, SuspiciousOperation):
                logger = logging.getLogger(f"django.security.{e.__class__.__name__}")
                logger.warning(str(e))
            self._session_key = None
            return None

    def _connection(self) -> Any:
        """The connection sessions are read from (Django's router decides, as the db engine's)."""
        return connections[router.db_for_read(self.model)]

    def _get_session_from_db(self) -> AbstractBaseSession | None:
        row = self._session_row()
        key = self.session_key
        if row is None or key is None:
            return None
        return self.model(session_key=key, session_data=row[0], expire_date=row[1])

    def load(self) -> dict[str, Any]:
        row = self._session_row()
        if row is None:
            return {}
        return self._loaded(row[0])

    def joined_sql(self) -> tuple[str, str, int]:
        """For a page's query that reads this session beside its own rows (reader_of,
        spaces.selectors.PageSession): the columns (the session's data, then every column of
        its account, as auth.session_user reads them), the joins to add to its FROM
        clause (parameters: joined_params, and ``user``, the account's id) and how many columns."""
        connection = self._connection()
        qn = connection.ops.quote_name
        columns = f"ses.session_data, {row_columns((User, 'su'))}"
        joins = (
            f" LEFT JOIN {qn(self.model._meta.db_table)} ses"
            " ON ses.session_key = %(session)s AND ses.expire_date > %(session_now)s"
            f" LEFT JOIN {qn(User._meta.db_table)} su ON su.id = %(user)s"
        )
        return columns, joins, 1 + len(User._meta.concrete_fields)

    def joined_params(self) -> dict[str, Any]:
        """The parameters of joined_sql's clause for this session (its key, and now)."""
        connection = self._connection()
        return {"session": self.session_key, "session_now": connection.ops.adapt_datetimefield_value(timezone.now())}

    def take(self, user_id: int, row: tuple[Any, ...]) -> None:
        """This session as a page's query read it beside its own rows, for the account
        `user_id` (reader_of): `row` holds joined_sql's columns. Then it is not read again:
        the same row, rule and result as `load` and `_session_row`."""
        if row[0] is None:  # no such session, or it has expired
            self._session_key = None
            self._session_cache = {}
            return
        self.joined_user = (user_id, None if row[1] is None else tuple(row[1:]))
        self._session_cache = self._loaded(row[0])

    def _loaded(self, session_data: str) -> dict[str, Any]:
        data = self._decode_kept(session_data)
        raw_id = data.get(SESSION_KEY)
        key = self.session_key
        if key is not None and isinstance(raw_id, str) and raw_id.isdigit():
            _USER_OF.put(key, int(raw_id))
        return data

    def _decode_kept(self, session_data: str) -> dict[str, Any]:
        """`decode`, remembered in the process for the same stored text and keys: checking
        the signature and unpacking it cost a tenth of a logged-in page kept for readers
        alike. The same signed text under the same keys always decodes to the same data, so
        this is what decode gives. Only data of plain values (a logged-in session's are
        strings) is remembered, and each caller gets a copy of its own, so nothing a page
        changes in its session reaches another."""
        memo_key = (session_data, settings.SECRET_KEY, tuple(settings.SECRET_KEY_FALLBACKS))
        data = _DECODED.get(memo_key)
        if data is not None:
            return dict(data)
        data = self.decode(session_data)
        if data and all(type(v) in _PLAIN for v in data.values()):
            _DECODED.put(memo_key, dict(data))
        return data


def reader_of(session: object) -> int | None:
    """The account `session` named when this process last read it, while this request has
    not read it yet: a page that reads rows for its viewer may read them for that account
    in the same query as the session (joined_sql, SessionStore.take), one query, not two."""
    if type(session) is not SessionStore or hasattr(session, "_session_cache"):
        return None
    key = session.session_key
    return None if key is None else _USER_OF.get(key)


# The account each session's data named when last read here, by session key (_session_row).
_USER_OF: Memo[str, int] = Memo(4096)
# Decoded session data by (stored text, secret key, fallback keys): see _decode_kept.
_DECODED: Memo[tuple[str, str, tuple[str | bytes, ...]], dict[str, Any]] = Memo(1024)
_PLAIN = (str, int, float, bool, type(None))
