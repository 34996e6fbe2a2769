"""One web process of ``manage.py serve``: daphne on an inherited socket that starts
listening only once the app is loaded.

Each process has a socket of its own on the shared port (SO_REUSEPORT), and the kernel hands
a new connection to one of the listening ones. Listening before the app is loaded (a few
seconds after a start or a replacement) would leave the connections the kernel gives this
socket meanwhile waiting for that long; so the socket comes bound but not listening
(``--fd``), and listens from here, after the imports, just before daphne serves on it."""
from __future__ import annotations

import socket
import sys


def main() -> None:
    import daphne.server  # noqa: F401 - installs Twisted's asyncio reactor, before any other

    import datagran.asgi  # noqa: F401 - the slow part: Django, the app, scikit-learn, skops

    fd = int(sys.argv[sys.argv.index("--fd") + 1])
    sock = socket.socket(fileno=fd)
    sock.listen(1024)
    sock.detach()  # the descriptor is daphne's now
    from daphne.cli import CommandLineInterface

    CommandLineInterface().run(sys.argv[1:])


if __name__ == "__main__":
    main()
