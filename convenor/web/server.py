"""The production server behind `convenor serve`: waitress, with one change to its I/O loop.

waitress runs one I/O thread, which select()s over every connection, and worker threads,
which run the application. Since waitress 2 (``send_bytes = 1``), a worker sends what its
task writes itself, at once, holding the connection's output lock while it does. Meanwhile
the I/O thread sees output waiting on that connection and asks select() whether the socket
is writable, which a socket with room in its buffer always is; its ``handle_write`` then
cannot take the lock, does nothing, and the loop comes round again at once, holding Python's
lock between select() calls while the worker wants it back. Under `bench/web.py`'s 16
connections the loop went round about 30 times per page served (4 to 60 thousand times a
second), most of the server's time besides the application's own.

`Channel` offers a connection to select() for writing only when its output lock is free, or
no task is running for it: exactly when ``handle_write`` could send. Nothing is left waiting:
a worker that could not send all it wrote (the socket's buffer was full) pulls the I/O
thread's trigger before it lets go of the lock (``HTTPChannel.write_soon``), and so does every
task when it ends (``HTTPChannel.service``), so the loop looks again.
"""

from __future__ import annotations

import gc
import logging
from typing import Any

from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer


class Channel(HTTPChannel):  # type: ignore[misc]  # waitress has no type hints
    """waitress's connection, writable for the I/O loop only when it can write (see above)."""

    def writable(self) -> bool:
        if self.will_close or self.close_when_flushed:
            return True
        if not self.total_outbufs_len:
            return False
        if not self.requests:
            return True  # no task runs for it: nobody else sends
        lock = self.outbuf_lock
        if lock.acquire(False):
            lock.release()
            return True
        return False  # a worker is sending; it pulls the trigger if it leaves anything


def serve(application: Any, **adjustments: Any) -> None:
    """Serve `application` until stopped, as ``waitress.serve`` does, through `make_server`,
    once the process is ready (`settle`)."""
    logging.basicConfig()  # as waitress.serve: its errors are logged somewhere (no-op if set up)
    server = make_server(application, **adjustments)
    settle()
    server.run()


def settle() -> None:
    """Import every view now (Django imports them on the first request that resolves a URL),
    then set everything the process holds so far aside from Python's garbage collector
    (``gc.freeze``): those objects live as long as the process, yet every full collection
    went through all of them again, holding every thread up 130 to 170 ms a time, every 15
    to 20 s under load (`bench/web.py`, 230,000 objects). Collections now only go through
    what requests leave behind."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018  # imports every URLconf and view module
    gc.collect()
    gc.freeze()


def make_server(application: Any, **adjustments: Any) -> Any:
    """waitress's server for `application` with `adjustments` (host, port, threads...), its
    connections made as `Channel`. Call ``.run()`` on it to serve."""
    sockets: dict[int, Any] = {}
    server = create_server(application, map=sockets, **adjustments)
    for dispatcher in sockets.values():
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = Channel
    return server
