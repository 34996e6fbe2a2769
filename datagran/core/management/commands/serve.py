"""`manage.py serve --processes N`: the web server (daphne) in N processes behind one port.

The parent binds the listening socket once and forks N children under the pre-forking
supervisor (datagran.core.prefork); each child starts daphne afresh (exec) on that socket,
inherited by its file descriptor (daphne's ``--fd``), so the kernel hands each new connection
to one of them. A child that exits is replaced; SIGTERM stops them all. Daphne is started
anew rather than forked ready: its Twisted reactor and asyncio loop exist from the moment
Django loads (the daphne app), and a loop's epoll shared across a fork mixes the processes'
events.

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


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
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
        sock = listening_socket(host, port)
        fd = sock.fileno()
        log.info("serving on http://%s:%d with %d daphne processes", host, port, processes)
        command = [sys.executable, "-m", "daphne", "--fd", str(fd), *daphne_args,
                   "datagran.asgi:application"]

        def child(slot: int, _parent: int, _forked: float) -> int:
            os.execv(sys.executable, command)  # noqa: S606 - our own interpreter and daphne

        Supervisor(processes=processes, child=child, name="web process").run()
        sock.close()
