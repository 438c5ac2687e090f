"""A TCP proxy a test controls, between a client and a server (PostgreSQL here), to make the
network fail in the ways real ones do:

- `pause()`: the link goes silent. Connections stay open, bytes are neither passed on nor
  refused (a partition, a stalled middlebox). `resume()` passes them on again, in order.
- `drop()`: every open connection is cut (a database restart, a failover).
- `refuse()`: the port stops listening as well (the database is down); `accept()` listens again.

    proxy = Proxy(("127.0.0.1", 5432)).start()
    url = proxy.url("postgresql://postgres@127.0.0.1:5432/test")   # same URL, through the proxy
"""

from __future__ import annotations

import select
import socket
import threading
from urllib.parse import urlsplit, urlunsplit


class Proxy:
    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._server: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._lock = threading.Lock()
        self._flowing = threading.Event()
        self._flowing.set()
        self.connections = 0  # accepted so far

    def url(self, url: str) -> str:
        """`url` with its host and port replaced by the proxy's."""
        parts = urlsplit(url)
        userinfo = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{userinfo}127.0.0.1:{self.port}"))

    # -- control -------------------------------------------------------------------------------

    def start(self) -> Proxy:
        self.accept()
        return self

    def accept(self) -> None:
        """Listen (again) on the proxy's port."""
        with self._lock:
            if self._server is not None:
                return
            server = socket.socket()
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", self.port))
            server.listen(64)
            self._server = server
        threading.Thread(target=self._accept, args=(server,), daemon=True).start()

    def pause(self) -> None:
        self._flowing.clear()

    def resume(self) -> None:
        self._flowing.set()

    def drop(self) -> None:
        """Cut every open connection (the port keeps listening)."""
        with self._lock:
            conns, self._conns = self._conns, []
        for conn in conns:
            for how in (socket.SHUT_RDWR,):
                try:
                    conn.shutdown(how)
                except OSError:
                    pass
            try:
                conn.close()
            except OSError:
                pass

    def refuse(self) -> None:
        """Stop listening and cut every open connection: new connections are refused."""
        with self._lock:
            server, self._server = self._server, None
        if server is not None:
            try:
                server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close alone does not
            except OSError:
                pass
            server.close()
        self.drop()

    def close(self) -> None:
        self.resume()
        self.refuse()

    # -- relaying ------------------------------------------------------------------------------

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._conns += [client, upstream]
                self.connections += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([src], [], [], 0.2)
                if not readable:
                    if src.fileno() < 0:
                        return
                    continue
                self._flowing.wait()  # paused: hold the bytes (the reader stays unread too)
                data = src.recv(65536)
                if not data:
                    break
                self._flowing.wait()
                dst.sendall(data)
        except (OSError, ValueError):
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
