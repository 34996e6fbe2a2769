"""`manage.py serve --processes N`: the web server (daphne) in N processes behind one port.

The parent binds the port (and never listens on it) and forks N children under the
pre-forking supervisor (datagran.core.prefork); each binds a socket of its own to the same
port (SO_REUSEPORT) and starts daphne afresh (exec, datagran.core.webprocess), which listens
on it once the app is loaded. The kernel spreads new connections over the listening sockets,
a connection at a time: with one shared socket, the process first woken accepted every
connection waiting (Twisted accepts up to a hundred at once), so a few clients connecting
together all landed on one process while the others idled. A child that exits is replaced
(the connections the kernel had queued on its socket and not yet handed to it are lost;
new ones go to the others); SIGTERM stops them all. Daphne is started anew rather than
forked ready: its Twisted reactor and asyncio loop exist from the moment Django loads (the
daphne app), and a loop's epoll shared across a fork mixes the processes' events.

Production only (BROKER_URL set): in the embedded default each web process would also run
its own worker threads over its own in-process broker."""
from __future__ import annotations

import logging
import os
import socket
import sys
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from datagran.core.prefork import Supervisor

log = logging.getLogger("datagran.web")


def port_socket(host: str, port: int) -> socket.socket:
    """A socket bound to (host, port) with SO_REUSEPORT, not listening yet. Each web process
    listens on one of its own (datagran.core.webprocess) and the kernel spreads new
    connections over the listening ones; the parent's, which never listens, holds the port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    return sock


class Command(BaseCommand):
    help = ("Serve the web app and the prediction endpoints with daphne in several processes "
            "behind one port (production: BROKER_URL set); a process that exits is replaced.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--processes", type=int, default=os.cpu_count() or 1,
                            help="daphne processes (default: one per core)")
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("daphne_args", nargs="*",
                            help="passed on to each daphne (after --), e.g. --proxy-headers")

    def handle(self, *args: Any, processes: int, host: str, port: int,
               daphne_args: list[str], **options: Any) -> None:
        if processes < 1:
            raise CommandError("--processes: at least 1.")
        if processes > 1 and settings.EMBEDDED_WORKER:
            raise CommandError(
                "--processes above 1 needs the production set-up (BROKER_URL, a database "
                "server and `make worker`): in the embedded default each web process would "
                "run its own worker threads. Use `make run` for one process.")
        held = port_socket(host, port)  # the port, free and ours
        port = held.getsockname()[1]
        log.info("serving on http://%s:%d with %d daphne processes", host, port, processes)

        def child(slot: int, _parent: int, _forked: float) -> int:
            sock = port_socket(host, port)
            sock.set_inheritable(True)
            os.execv(sys.executable, [  # noqa: S606 - our own interpreter and daphne
                sys.executable, "-m", "datagran.core.webprocess", "--fd", str(sock.fileno()),
                *daphne_args, "datagran.asgi:application"])

        Supervisor(processes=processes, child=child, name="web process").run()
        held.close()
