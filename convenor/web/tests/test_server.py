"""The production server (convenor/web/server.py): waitress with connections that the I/O
loop offers for writing only when it can write."""

from __future__ import annotations

import http.client
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from waitress import wasyncore

from convenor.web.server import Channel, make_server

BIG = bytes(range(256)) * 4096  # 1 MiB: more than a socket's buffer takes at once


def _app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
    if environ["PATH_INFO"] == "/big":
        start_response("200 OK", [("Content-Type", "application/octet-stream"), ("Content-Length", str(len(BIG)))])
        # In two writes, so that a worker writes again while its first part may still wait.
        return iter([BIG[:300_000], BIG[300_000:]])
    body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return iter([body])


@pytest.fixture
def server() -> Iterator[tuple[str, int]]:
    srv = make_server(_app, host="127.0.0.1", port=0, threads=2, ident="test")
    runner = threading.Thread(target=srv.run, daemon=True)
    runner.start()
    try:
        yield "127.0.0.1", srv.effective_port
    finally:
        # Closed from inside its own loop (the trigger runs the function there), so that no
        # select() is waiting on a socket closed under it; the loop ends with its map empty.
        srv.trigger.pull_trigger(lambda: wasyncore.close_all(srv._map))
        runner.join(timeout=10)
        srv.task_dispatcher.shutdown()
        assert not runner.is_alive()


def test_the_server_makes_its_connections_as_channel() -> None:
    srv = make_server(_app, host="127.0.0.1", port=0, threads=1)
    try:
        assert srv.channel_class is Channel
    finally:
        srv.close()


def test_every_response_arrives_whole_over_kept_alive_connections(server: tuple[str, int]) -> None:
    """Large bodies the socket cannot take at once (the rest is sent when the worker pulls
    the trigger) and small ones, on four connections at a time, each used for many requests."""
    failures: list[str] = []

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(*server, timeout=20)
        try:
            for i in range(12):
                path = "/big" if i % 3 == 0 else f"/small/{n}/{i}"
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                expected = BIG if path == "/big" else path.encode()
                if response.status != 200 or body != expected:
                    failures.append(f"{path}: {response.status}, {len(body)} bytes")
        except (OSError, http.client.HTTPException) as err:
            failures.append(f"client {n}: {err!r}")
        finally:
            conn.close()

    clients = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in clients:
        t.start()
    for t in clients:
        t.join(timeout=60)
    assert not failures
    assert not any(t.is_alive() for t in clients)


def test_a_connection_is_not_offered_for_writing_while_a_worker_sends() -> None:
    srv = make_server(_app, host="127.0.0.1", port=0, threads=1)
    ours, theirs = socket.socketpair()
    try:
        channel = Channel(srv, ours, ("127.0.0.1", 0), srv.adj, map={})
        assert not channel.writable()  # nothing to send

        channel.total_outbufs_len = 10  # output waiting...
        assert channel.writable()  # ...and no task running: the loop sends it

        channel.requests = [object()]  # a task runs for the connection
        assert channel.writable()  # its worker is not sending: the loop may
        held, done = threading.Event(), threading.Event()

        def worker_sending() -> None:
            with channel.outbuf_lock:
                held.set()
                done.wait(5)

        worker = threading.Thread(target=worker_sending)
        worker.start()
        held.wait(5)
        try:
            assert not channel.writable()  # the worker sends: select() would wake for nothing
            channel.will_close = True
            assert channel.writable()  # closing is the loop's to do, whoever holds the lock
            channel.will_close = False
        finally:
            done.set()
            worker.join(5)
        assert channel.writable()  # the worker let go with output left: the loop sends it
    finally:
        ours.close()
        theirs.close()
        srv.close()


def test_settle_imports_the_views_and_sets_the_process_aside_from_the_collector() -> None:
    import gc
    import sys

    from convenor.web.server import settle

    try:
        settle()
        assert gc.get_freeze_count() > 10_000
        assert "convenor.web.views_spaces" in sys.modules
    finally:
        gc.unfreeze()
