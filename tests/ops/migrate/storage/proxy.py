"""A TCP proxy in front of a real server that cuts responses mid-body: a source failing mid-stream.

While ``cuts`` remain, a connection that has relayed ``cut_after`` response bytes is shut down,
so the client has headers and part of a body, then an error: what a dropped link or a crashed
load balancer does. Requests are relayed untouched.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class CuttingProxy:
    def __init__(self, upstream_port: int, *, cut_after: int, cuts: int | None) -> None:
        self.upstream_port = upstream_port
        self.cut_after = cut_after
        self.cuts = cuts
        self.cut = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.port = int(self._listener.getsockname()[1])
        self._stop = threading.Event()
        self._sockets: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True), daemon=True).start()

    def _take_cut(self) -> bool:
        with self._lock:
            if self.cuts is not None and self.cuts <= 0:
                return False
            if self.cuts is not None:
                self.cuts -= 1
            self.cut += 1
            return True

    def _pump(self, source: socket.socket, target: socket.socket, responses: bool) -> None:
        relayed = 0
        try:
            while chunk := source.recv(65536):
                if responses and relayed + len(chunk) > self.cut_after and self._take_cut():
                    target.sendall(chunk[: max(0, self.cut_after - relayed)])
                    _reset(target)
                    _reset(source)
                    return
                target.sendall(chunk)
                relayed += len(chunk)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._listener.close()
        for sock in self._sockets:
            sock.close()


def _reset(sock: socket.socket) -> None:
    # shutdown() first: it wakes the other pump thread blocked in recv() on this socket, which a bare
    # close() would not, and the client would wait for its read timeout instead of seeing the cut.
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
