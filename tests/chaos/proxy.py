"""A loopback TCP proxy that can be cut (a network partition) and healed.

Used to cut one scheduler off from Redis. While cut it behaves like an
iptables DROP rule on both directions: established connections stay open but no
byte passes, and new connections are accepted by the kernel but never reach
Redis. Healing forwards what was held and connects the waiting clients.

Standard library only; every thread polls a stop flag, so close() is bounded."""
import select
import socket
import threading
import time


class CutProxy:
    def __init__(self, upstream_port, host="127.0.0.1"):
        self.upstream = (host, upstream_port)
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((host, 0))
        self.lsock.listen(128)
        self.port = self.lsock.getsockname()[1]
        self.cut = threading.Event()
        self.stopping = threading.Event()
        self.threads = []
        self.socks = []
        self.connections = 0
        t = threading.Thread(target=self._accept, daemon=True)
        t.start()
        self.threads.append(t)

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def _accept(self):
        self.lsock.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                c, _ = self.lsock.accept()
            except (socket.timeout, OSError):
                continue
            t = threading.Thread(target=self._serve, args=(c,), daemon=True)
            t.start()
            self.threads.append(t)

    def _serve(self, c):
        self.socks.append(c)
        while self.cut.is_set() and not self.stopping.is_set():
            time.sleep(0.05)  # the SYN got through to the kernel, nothing more
        try:
            u = socket.create_connection(self.upstream, timeout=2)
        except OSError:
            c.close()
            return
        self.socks.append(u)
        self.connections += 1
        pair = {c: u, u: c}
        try:
            while not self.stopping.is_set():
                if self.cut.is_set():
                    time.sleep(0.05)
                    continue
                r, _, _ = select.select([c, u], [], [], 0.1)
                for s in r:
                    data = s.recv(65536)
                    if not data:
                        return
                    pair[s].sendall(data)
        except OSError:
            return
        finally:
            for s in (c, u):
                try:
                    s.close()
                except OSError:
                    pass

    def partition(self):
        self.cut.set()

    def heal(self):
        self.cut.clear()

    def close(self):
        self.stopping.set()
        self.lsock.close()
        for t in self.threads:
            t.join(2)
        for s in self.socks:
            try:
                s.close()
            except OSError:
                pass
