"""A small TCP proxy for fault injection: the process under test talks to a real server
(PostgreSQL, Redis, RabbitMQ) through it, and the test cuts or freezes the path without
touching the shared server.

    with TcpProxy(5432) as proxy:            # listens on 127.0.0.1:proxy.port
        ... DATABASE_URL=postgresql://postgres@127.0.0.1:{proxy.port}/db ...
        proxy.drop()        # close every open connection (a server restart, a dropped socket)
        proxy.stop()        # refuse new connections and drop open ones (an outage)
        proxy.freeze()      # keep connections open but pass no bytes (a hung server)
        proxy.resume()      # back to normal after stop() or freeze()
"""
from __future__ import annotations

import contextlib
import socket
import threading
from types import TracebackType


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1",
                 port: int = 0) -> None:
        self.target = (target_host, target_port)
        self.listener = socket.create_server(("127.0.0.1", port), reuse_port=False)
        self.port: int = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.accepting = threading.Event()
        self.accepting.set()
        self.flowing = threading.Event()
        self.flowing.set()
        self.closed = False
        self.connections_made = 0
        threading.Thread(target=self._accept, daemon=True, name=f"proxy-{self.port}").start()

    # --- faults -------------------------------------------------------------------------------
    def drop(self) -> None:
        """Close every open connection; new ones are still accepted."""
        with self.lock:
            pairs, self.pairs = self.pairs, []
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    s.close()

    def stop(self) -> None:
        """An outage: open connections are closed and new ones are closed at once."""
        self.accepting.clear()
        self.drop()

    def freeze(self) -> None:
        """A hung server: connections stay open and new ones are accepted, but nothing flows."""
        self.flowing.clear()

    def resume(self) -> None:
        self.accepting.set()
        self.flowing.set()

    def close(self) -> None:
        self.closed = True
        self.resume()
        self.drop()
        with contextlib.suppress(OSError):
            self.listener.close()

    def __enter__(self) -> TcpProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # --- plumbing -----------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self.closed:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.accepting.is_set():
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.pairs.append((client, upstream))
                self.connections_made += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while not self.flowing.wait(0.1):
                    if self.closed:
                        return
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
