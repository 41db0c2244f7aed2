"""A real HTTP server on 127.0.0.1 for the remote tests: serves WARC bytes with injected faults.

Each served path has a plan: the bytes (one version or several, for a file that changes), which
headers the server gives (ranges, ETag, Last-Modified, digest), credentials it demands, and a
queue of faults, one taken per request:

    drop       send half the body, then close the connection
    short      send all but the last 100 bytes of the body, then close
    change     like ``drop``, and the file is a new version from the next request on
    503 / 429  answer with that status (``429`` with ``Retry-After: 1``)
    403-on-head  refuse a HEAD request (as a URL signed for GET only does)
    slowdown   an S3 ``SlowDown`` error (503 with its XML body)
    stall      wait a second before answering (for client timeouts)

``always`` applies one fault to every request. Every request's headers and every body byte sent
are counted, so a test can say what was transferred.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@dataclass
class Served:
    """One path of the server: what it serves, how, and what it was asked."""

    versions: list[bytes]
    ranges: bool = True
    etag: bool = True
    last_modified: bool = True
    digest: bool = False
    faults: list[str] = field(default_factory=list)
    always: str | None = None
    auth: tuple[str, str] | None = None
    redirect: str | None = None
    version: int = 0
    requests: list[dict[str, str]] = field(default_factory=list)
    body_bytes: int = 0

    @property
    def data(self) -> bytes:
        return self.versions[min(self.version, len(self.versions) - 1)]

    def ranges_asked(self) -> list[str | None]:
        """The Range header of each GET (None when it had none)."""
        return [r.get("range") for r in self.requests if r["method"] == "GET"]

    def methods(self) -> list[str]:
        return [r["method"] for r in self.requests]


class WarcServer:
    """The server and its plans, one per path."""

    def __init__(self, server: ThreadingHTTPServer) -> None:
        self.server = server
        self.files: dict[str, Served] = {}
        self.lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, path: str, userinfo: str = "") -> str:
        return f"http://{userinfo}127.0.0.1:{self.port}{path}"

    def serve(self, path: str, *versions: bytes, **plan: object) -> Served:
        served = Served(list(versions), **plan)  # type: ignore[arg-type]
        self.files[path] = served
        return served


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:
        pass  # quiet tests

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    def _answer(self, *, head: bool) -> None:
        plan = self.server.plans
        served = plan.files.get(self.path)
        if served is None:
            self._reply(404, b"not found")
            return
        with plan.lock:
            asked = {k.lower(): v for k, v in self.headers.items()}
            served.requests.append({"method": self.command, **asked})
            fault = served.faults.pop(0) if served.faults else served.always
        if served.redirect is not None:
            self._reply(302, b"", {"Location": served.redirect})
            return
        if served.auth is not None:
            user, password = served.auth
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            if self.headers.get("Authorization") != f"Basic {token}":
                self._reply(401, b"who are you?", {"WWW-Authenticate": 'Basic realm="warcs"'})
                return
        if fault == "403-on-head":
            if head:
                self._reply(403, b"")
                return
            fault = None
        if fault == "503":
            self._reply(503, b"busy")
            return
        if fault == "slowdown":
            body = (
                b"<Error><Code>SlowDown</Code><Message>Please reduce your rate.</Message></Error>"
            )
            self._reply(503, body)
            return
        if fault == "429":
            self._reply(429, b"slow down", {"Retry-After": "1"})
            return
        if fault == "stall":
            time.sleep(1.0)
        data = served.data
        version = served.version
        headers = {}
        if served.etag:
            headers["ETag"] = f'"{hashlib.sha1(data).hexdigest()[:16]}"'
        if served.last_modified:
            headers["Last-Modified"] = f"Tue, 0{1 + version} Mar 2022 10:00:00 GMT"
        if served.ranges:
            headers["Accept-Ranges"] = "bytes"
        if served.digest:
            headers["Digest"] = (
                "SHA-256=" + base64.b64encode(hashlib.sha256(data).digest()).decode()
            )
        status, body = 200, data
        wanted = _RANGE.match(self.headers.get("Range", ""))
        if_range = self.headers.get("If-Range")
        fresh = if_range is None or if_range in (headers.get("ETag"), headers.get("Last-Modified"))
        if served.ranges and wanted and fresh:
            start = int(wanted.group(1))
            end = int(wanted.group(2)) if wanted.group(2) else len(data) - 1
            if start >= len(data):
                self._reply(416, b"", {"Content-Range": f"bytes */{len(data)}"})
                return
            end = min(end, len(data) - 1)
            status, body = 206, data[start : end + 1]
            headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        cut = None
        if fault in ("drop", "change"):
            cut = len(body) // 2
        elif fault == "short":
            cut = max(0, len(body) - 100)
        if fault == "change":
            served.version += 1
        self._reply(status, body, headers, cut=cut, served=served, head=head)

    def _reply(
        self,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
        *,
        cut: int | None = None,
        served: Served | None = None,
        head: bool = False,
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        sent = b"" if head else body if cut is None else body[:cut]
        if served is not None:
            # Counted before they are written: the client may be done before this thread is.
            with self.server.plans.lock:
                served.body_bytes += len(sent)
        try:
            self.wfile.write(sent)
            self.wfile.flush()
        except OSError:
            return  # the client gave up (a timeout test)
        if cut is not None:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    plans: WarcServer

    def handle_error(self, request: object, client_address: object) -> None:
        # A client that gave up mid-answer (cut transfers, timeouts) is what the tests do; the
        # default prints a traceback to sys.stderr, which the CLI runner would capture.
        pass


@contextmanager
def running() -> Iterator[WarcServer]:
    """A server on a free port of 127.0.0.1 for the duration of the block."""
    server = _Server(("127.0.0.1", 0), _Handler)
    plans = WarcServer(server)
    server.plans = plans
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield plans
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
