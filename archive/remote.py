"""Remote WARC files over HTTP(S): fetched whole or by byte range, robustly and safely.

The reader needs a seekable local file (it seeks to sniff the format and to resynchronise after
damage), so a remote file is downloaded once, hashed on the way, into a temporary file (or into
the cache directory) and read from there: disk use is one file at a time per process, and
nothing is kept without a cache. A single record is read back with one ``Range`` request for
exactly its bytes.

Robustness: every request has a timeout; connection errors, timeouts, 5xx, 408, 429 and S3's
``SlowDown`` are retried a bounded number of times with exponential backoff and jitter, waiting
at least as long as ``Retry-After`` asks (capped). A transfer cut in the middle resumes with a
``Range`` request from the first missing byte when the server accepts ranges and gave a
validator (ETag or Last-Modified, sent back as ``If-Range``); otherwise it starts again from the
first byte. A body shorter than its Content-Length, or a file whose validators or size change
between two requests, is an error: never a silently shorter file.

Safety: only ``http`` and ``https`` URLs are fetched, and redirects are followed only to them.
Credentials come from the URL's user info, from ``.netrc`` (``$NETRC`` or ``~/.netrc``) or from
``ARCHIVIST_HTTP_TOKEN``; the URL is stripped of its user info before anything is printed,
raised or catalogued, and requests are sent to that stripped URL with credentials in a header.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import netrc
import os
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import IO
from urllib.parse import unquote, urljoin, urlsplit

import httpx

from archive import __version__
from archive.errors import SourceChangedError, SourceError

REMOTE_SCHEMES = ("http", "https")
TOKEN_ENV = "ARCHIVIST_HTTP_TOKEN"
DEFAULT_TIMEOUT = 60.0
DEFAULT_MAX_SIZE = 10 << 30
DEFAULT_ATTEMPTS = 5
DEFAULT_BACKOFF = 1.0
# A server asking to wait longer than this is waited for this long, then asked again.
RETRY_AFTER_CAP = 120.0
_BACKOFF_CAP = 60.0
_MAX_REDIRECTS = 10
# An attempt that kept this many new bytes (a resumed transfer) starts the failure count afresh:
# a long transfer may be cut more often than ``attempts`` times and still make progress.
_PROGRESS = 1 << 20
_RETRY_STATUSES = frozenset({408, 425, 429})
_NO_HEAD = (*(s for s in range(400, 500) if s not in _RETRY_STATUSES), 501)
_USERINFO = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#]*@")
_CONTENT_RANGE = re.compile(r"^bytes\s+(\d+)-(\d+)/(\d+|\*)$")


class TransferError(SourceError):
    """A remote file could not be fetched as asked (refused, unreachable, cut short, too big)."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


class RemoteChangedError(TransferError, SourceChangedError):
    """A remote file is not the one it was: between two requests, or since it was ingested."""


@dataclass(frozen=True)
class RemoteOptions:
    """How remote files are fetched: limits, retries and where downloads are kept."""

    timeout: float = DEFAULT_TIMEOUT  # seconds to connect, or to wait for the next bytes
    max_size: int | None = DEFAULT_MAX_SIZE  # bytes; None for no limit
    cache: Path | None = None  # keep downloaded files here, named by their SHA-256
    attempts: int = DEFAULT_ATTEMPTS  # per request, before giving up
    backoff: float = DEFAULT_BACKOFF  # first wait between attempts, in seconds; doubles
    retry_after_cap: float = RETRY_AFTER_CAP
    # Run the text stage on the downloaded copy while it exists: reading the file again later
    # would need another download.
    extract_text: bool = True


@dataclass(frozen=True)
class RemoteFile:
    """What a server says of a file before its body is read: where it is and its validators."""

    url: str  # without user info
    size: int | None
    etag: str | None
    last_modified: str | None
    accepts_ranges: bool
    sha256: str | None = None  # from a Digest / Repr-Digest header, when the server sends one

    @property
    def if_range(self) -> str | None:
        """The validator a resumed request may send as If-Range (a weak ETag may not be)."""
        if self.etag and not self.etag.startswith("W/"):
            return self.etag
        return self.last_modified

    @property
    def resumable(self) -> bool:
        """Whether a cut transfer can go on from where it stopped, safely."""
        return self.accepts_ranges and self.size is not None and self.if_range is not None


@dataclass(frozen=True)
class Download:
    """A remote file downloaded whole: its bytes are at ``path``, hashed on the way."""

    file: RemoteFile
    path: Path
    size: int
    sha256: str
    resumes: int = 0
    restarts: int = 0


def is_remote(location: str) -> bool:
    """Whether ``location`` is an http(s) URL rather than a local path."""
    return location[:8].lower().startswith(("http://", "https://"))


def redact(url: str) -> str:
    """``url`` without its user info: what may be printed, raised or catalogued."""
    return _USERINFO.sub(r"\1", url, count=1)


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched, or None when it can be."""
    try:
        _Target.of(url)
    except TransferError as exc:
        return exc.reason
    return None


def cached_copy(options: RemoteOptions, sha256: str, size: int) -> Path | None:
    """The cached copy of the file with this SHA-256, if the cache holds one of the right size."""
    if options.cache is None:
        return None
    path = options.cache / sha256
    try:
        return path if path.stat().st_size == size else None
    except OSError:
        return None


@contextmanager
def downloaded(
    url: str, options: RemoteOptions, *, wanted: Callable[[RemoteFile], bool] | None = None
) -> Iterator[Download | None]:
    """Download ``url`` once into a local file and yield it; deleted afterwards unless cached.

    ``wanted`` sees the server's answer before the body is read; when it says no, nothing is
    downloaded and None is yielded.
    """
    shown = redact(url)
    directory = options.cache
    try:
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="archivist-", suffix=".part", dir=directory)
    except OSError as exc:
        where = directory or tempfile.gettempdir()
        raise TransferError(shown, f"cannot write to {where}: {exc.strerror or exc}") from exc
    part = Path(name)
    try:
        try:
            with os.fdopen(fd, "w+b") as out, _Fetcher(url, options) as fetcher:
                result = fetcher.download(out, part, wanted)
        except OSError as exc:  # the local side: a full disk, a cache on a read-only mount
            raise TransferError(shown, f"cannot write {part}: {exc.strerror or exc}") from exc
        if result is None:
            yield None
            return
        if directory is not None:
            # Content-addressed: a file already there under this name holds the same bytes.
            kept = directory / result.sha256
            os.replace(part, kept)
            result = replace(result, path=kept)
        else:
            result = replace(result, path=part)
        yield result
    finally:
        part.unlink(missing_ok=True)


def describe(url: str, options: RemoteOptions) -> RemoteFile | None:
    """What the server says of ``url`` (size, validators) without its body; None without HEAD."""
    with _Fetcher(url, options) as fetcher:
        return fetcher.head()


def fetch_range(
    url: str, start: int, length: int, out: IO[bytes], options: RemoteOptions, *, file_size: int
) -> None:
    """Write bytes ``start`` to ``start + length - 1`` of a remote file of ``file_size`` bytes.

    The server must honour the range (206 with exactly that Content-Range): a server that would
    send the whole file instead is an error, not a silent full download.
    """
    with _Fetcher(url, options) as fetcher:
        try:
            fetcher.fetch_range(start, length, out, file_size)
        except OSError as exc:
            raise TransferError(fetcher.shown, f"cannot write: {exc.strerror or exc}") from exc


# --- the transfer ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Target:
    """A URL split into what is requested (no user info) and the credentials it carried."""

    url: str
    origin: tuple[str, str, int]
    userinfo: tuple[str, str] | None = field(default=None, repr=False)

    @classmethod
    def of(cls, url: str) -> _Target:
        shown = redact(url)
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise TransferError(shown, "not a valid URL") from None
        scheme = parts.scheme.lower()
        if scheme not in REMOTE_SCHEMES:
            raise TransferError(shown, "only http and https URLs are fetched")
        if not parts.hostname:
            raise TransferError(shown, "not a valid URL: no host")
        try:
            httpx.URL(shown)
        except httpx.InvalidURL:
            raise TransferError(shown, "not a valid URL") from None
        userinfo = None
        if parts.username is not None:
            userinfo = (unquote(parts.username), unquote(parts.password or ""))
        return cls(shown, _origin(scheme, parts.hostname, port), userinfo)


class _Retry(Exception):
    """A failure worth another attempt."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class _Fetcher:
    """One remote URL: requests with credentials, redirects checked, failures retried."""

    def __init__(self, url: str, options: RemoteOptions) -> None:
        self.target = _Target.of(url)
        self.shown = self.target.url
        self.options = options
        self.failures = 0
        self._netrc = _load_netrc(self.shown)
        self._client = httpx.Client(
            timeout=httpx.Timeout(options.timeout),
            follow_redirects=False,
            # The file's own bytes: a server that gzips its responses would change them.
            headers={"User-Agent": f"archivist/{__version__}", "Accept-Encoding": "identity"},
        )

    def __enter__(self) -> _Fetcher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._client.close()

    # -- requests --

    @contextmanager
    def _request(
        self, headers: dict[str, str], *, method: str = "GET", allowed: tuple[int, ...] = ()
    ) -> Iterator[httpx.Response]:
        """A 2xx response (streamed) to ``method`` with ``headers``, redirects followed.

        Statuses in ``allowed`` are answers too; any other failure raises.
        """
        url = self.target.url
        for _ in range(_MAX_REDIRECTS + 1):
            request = self._client.build_request(method, url, headers=headers)
            authorization = self._authorization(request.url)
            if authorization is not None:
                request.headers["Authorization"] = authorization
            try:
                response = self._client.send(request, stream=True)
            except httpx.RemoteProtocolError as exc:
                # httpx prepares the next request of a redirect even when it does not follow
                # it, and fails so on a Location that does not parse: not worth a retry.
                if str(exc).startswith("Invalid URL in location header"):
                    raise TransferError(self.shown, "redirected to an invalid URL") from None
                raise
            try:
                location = response.headers.get("Location")
                if response.is_redirect and location:
                    url = self._redirect(str(request.url), location)
                    continue
                if not response.is_success and response.status_code not in allowed:
                    self._refuse(response)
                yield response
                return
            finally:
                response.close()
        raise TransferError(self.shown, f"more than {_MAX_REDIRECTS} redirects")

    def _redirect(self, current: str, location: str) -> str:
        target = urljoin(current, location.strip())
        scheme = target.partition(":")[0].lower()
        if scheme not in REMOTE_SCHEMES:
            raise TransferError(
                self.shown,
                f"redirected to {redact(target)[:200]}: only http and https redirects are followed",
            )
        try:
            urlsplit(target).port  # noqa: B018 - raises on a port that is not a number
            httpx.URL(target)
        except (ValueError, httpx.InvalidURL):
            raise TransferError(self.shown, "redirected to an invalid URL") from None
        return target

    def _authorization(self, url: httpx.URL) -> str | None:
        """Credentials for a request to ``url``, if the user gave any for that host."""
        same_origin = _origin(url.scheme, url.host, url.port) == self.target.origin
        if same_origin and self.target.userinfo is not None:
            return _basic(*self.target.userinfo)
        if self._netrc is not None:
            entry = self._netrc.authenticators(url.host)
            if entry is not None:
                login, _account, password = entry
                return _basic(login or "", password or "")
        token = os.environ.get(TOKEN_ENV)
        if same_origin and token:
            return f"Bearer {token}"
        return None

    def _refuse(self, response: httpx.Response) -> None:
        """Raise for a response that is neither success nor redirect: retry, or give up."""
        status = response.status_code
        reason = f"HTTP {status} {response.reason_phrase}".strip()
        if status >= 500 or status in _RETRY_STATUSES or _slow_down(response):
            raise _Retry(reason, _retry_after(response.headers.get("Retry-After")))
        if status == 416:
            # Only ranged requests get this: the file no longer reaches the bytes asked for.
            raise RemoteChangedError(self.shown, f"{reason}: the file is shorter than it was")
        if status in (401, 403):
            reason += " (credentials come from the URL, .netrc or " + TOKEN_ENV + ")"
        raise TransferError(self.shown, reason)

    def _pause(self, reason: str, retry_after: float | None) -> None:
        """Wait before the next attempt, or give up after the last one."""
        self.failures += 1
        if self.failures >= self.options.attempts:
            plural = "s" if self.failures > 1 else ""
            raise TransferError(
                self.shown, f"{reason} (gave up after {self.failures} attempt{plural})"
            )
        delay = min(_BACKOFF_CAP, self.options.backoff * 2 ** (self.failures - 1))
        # Jitter spreads the retries of many workers hit by one outage.
        delay = delay / 2 + random.uniform(0, delay / 2)
        if retry_after is not None:
            delay = max(delay, min(retry_after, self.options.retry_after_cap))
        time.sleep(delay)

    def _describe(self, response: httpx.Response) -> RemoteFile:
        headers = response.headers
        size: int | None = None
        if response.status_code == 206:
            match = _CONTENT_RANGE.match(headers.get("Content-Range", "").strip())
            if match and match.group(3) != "*":
                size = int(match.group(3))
        else:
            length = headers.get("Content-Length", "")
            size = int(length) if length.isdigit() else None
        return RemoteFile(
            url=self.shown,
            size=size,
            etag=headers.get("ETag"),
            last_modified=headers.get("Last-Modified"),
            accepts_ranges=headers.get("Accept-Ranges", "").strip().lower() == "bytes",
            sha256=_sha256_header(headers),
        )

    def _check_unchanged(self, first: RemoteFile, now: RemoteFile) -> None:
        for what, was, is_now in (
            ("ETag", first.etag, now.etag),
            ("Last-Modified", first.last_modified, now.last_modified),
            ("size", first.size, now.size),
        ):
            if was is not None and is_now is not None and was != is_now:
                raise RemoteChangedError(
                    self.shown,
                    f"the file changed while it was downloaded ({what} was {was}, now {is_now}): "
                    "nothing recorded",
                )

    def _check_size(self, size: int | None, *, declared: bool = True) -> None:
        limit = self.options.max_size
        if limit is not None and size is not None and size > limit:
            what = f"the file is {size} bytes" if declared else "the file is larger"
            raise TransferError(self.shown, f"{what}, more than the maximum size of {limit}")

    def _check_range(self, response: httpx.Response, start: int, end: int | None) -> int:
        """Check that a 206 answers for bytes ``start``-``end``; return the file's total size."""
        header = response.headers.get("Content-Range", "").strip()
        match = _CONTENT_RANGE.match(header)
        if (
            match is None
            or int(match.group(1)) != start
            or (end is not None and int(match.group(2)) != end)
            or match.group(3) == "*"
        ):
            wanted = f"bytes {start}-{'' if end is None else end}"
            raise TransferError(
                self.shown, f"the server answered {header or 'no Content-Range'} to {wanted}"
            )
        return int(match.group(3))

    # -- what the server says --

    def head(self) -> RemoteFile | None:
        """The file as a HEAD request describes it; None when the server will not say."""
        while True:
            try:
                # A refused HEAD (405, 501, or 403 from a URL signed for GET only) is no answer:
                # the GET that follows tells.
                with self._request({}, method="HEAD", allowed=_NO_HEAD) as response:
                    if response.status_code in _NO_HEAD:
                        return None
                    return self._describe(response)
            except _Retry as exc:
                self._pause(exc.reason, exc.retry_after)
            except httpx.TransportError as exc:
                self._pause(_transport_reason(exc, self.options, 0, None), None)

    # -- whole files --

    def download(
        self, out: IO[bytes], path: Path, wanted: Callable[[RemoteFile], bool] | None
    ) -> Download | None:
        """Write the whole file to ``out`` (the file at ``path``), hashing it on the way."""
        first: RemoteFile | None = None
        digest = hashlib.sha256()
        received = resumes = restarts = 0

        def restart() -> None:
            nonlocal digest, received, restarts
            out.seek(0)
            out.truncate()
            digest = hashlib.sha256()
            received = 0
            restarts += 1

        while True:
            headers: dict[str, str] = {}
            if first is not None and received:
                headers["Range"] = f"bytes={received}-"
                headers["If-Range"] = first.if_range or ""
            start = received
            try:
                with self._request(headers) as response:
                    now = self._describe(response)
                    if first is None:
                        self._check_size(now.size)
                        first = now
                        if wanted is not None and not wanted(first):
                            return None
                    else:
                        self._check_unchanged(first, now)
                    if received and response.status_code == 206:
                        self._check_range(response, received, None)
                        resumes += 1
                    elif received:
                        restart()  # the server sent the whole file again (same validators)
                    # Unchunked: bytes are kept as they arrive, up to the moment a transfer is cut
                    # (a chunk size would hold back what was received before the cut).
                    for chunk in response.iter_raw():
                        received += len(chunk)
                        self._check_size(received, declared=False)
                        digest.update(chunk)
                        out.write(chunk)
                assert first is not None
                if first.size is not None and received != first.size:
                    raise _Retry(f"the body ended after {received} of {first.size} bytes")
                break
            except (_Retry, httpx.TransportError) as exc:
                if isinstance(exc, _Retry):
                    reason, retry_after = exc.reason, exc.retry_after
                else:
                    reason, retry_after = (
                        _transport_reason(exc, self.options, received, first),
                        None,
                    )
                if received and (first is None or not first.resumable):
                    restart()  # what was received cannot be continued safely
                elif received - start >= _PROGRESS:
                    self.failures = 0
                self._pause(reason, retry_after)
        out.flush()
        return Download(first, path, received, digest.hexdigest(), resumes, restarts)

    # -- one range --

    def fetch_range(self, start: int, length: int, out: IO[bytes], file_size: int) -> None:
        end = start + length - 1
        while True:
            out.seek(0)
            out.truncate()
            received = 0
            try:
                with self._request({"Range": f"bytes={start}-{end}"}) as response:
                    if response.status_code != 206:
                        raise TransferError(
                            self.shown,
                            f"the server ignored the Range request (HTTP {response.status_code}): "
                            "reading one record would download the whole file; ingest or read "
                            "it with --cache DIR to keep a local copy",
                        )
                    total = self._check_range(response, start, end)
                    if total != file_size:
                        raise RemoteChangedError(
                            self.shown,
                            f"the file is {total} bytes, the catalog recorded {file_size}: "
                            "it changed since it was ingested",
                        )
                    for chunk in response.iter_raw():
                        received += len(chunk)
                        if received > length:
                            raise TransferError(
                                self.shown, f"the server sent more than the {length} bytes asked"
                            )
                        out.write(chunk)
                if received != length:
                    raise _Retry(f"the body ended after {received} of {length} bytes")
                out.flush()
                return
            except _Retry as exc:
                self._pause(exc.reason, exc.retry_after)
            except httpx.TransportError as exc:
                self._pause(_transport_reason(exc, self.options, received, None), None)


def _transport_reason(
    exc: httpx.TransportError, options: RemoteOptions, received: int, file: RemoteFile | None
) -> str:
    """A short, credential-free account of a failed connection."""
    if isinstance(exc, httpx.TimeoutException):
        what = f"no answer within {options.timeout:g} s"
    elif isinstance(exc, httpx.ConnectError):
        what = f"cannot connect ({exc})"
    elif isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        what = "the connection was cut"
    else:
        what = f"transfer failed ({type(exc).__name__})"
    if received:
        total = f" of {file.size}" if file is not None and file.size is not None else ""
        what += f" after {received}{total} bytes"
    return what


def _origin(scheme: str, host: str, port: int | None) -> tuple[str, str, int]:
    """Scheme, host and port, the port made explicit (``http://h`` is ``http://h:80``)."""
    scheme = scheme.lower()
    return scheme, host.lower(), port if port is not None else (443 if scheme == "https" else 80)


def _basic(user: str, password: str) -> str:
    token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def _load_netrc(shown: str) -> netrc.netrc | None:
    """The user's .netrc (``$NETRC`` or ``~/.netrc``), or None when there is none."""
    path = os.environ.get("NETRC")
    try:
        # Without an explicit file, the standard library also refuses a ~/.netrc that others
        # can read.
        return netrc.netrc(path) if path else netrc.netrc()
    except FileNotFoundError:
        if path:
            raise TransferError(shown, f"NETRC names {path}, which does not exist") from None
        return None
    except netrc.NetrcParseError as exc:
        # The parser's message may quote a token of the file (a password): never show it.
        where = exc.filename or path or "~/.netrc"
        raise TransferError(shown, f"cannot use {where}: malformed at line {exc.lineno}") from None
    except OSError as exc:
        raise TransferError(shown, f"cannot read .netrc: {exc.strerror or exc}") from None


def _slow_down(response: httpx.Response) -> bool:
    """Whether an error response is S3's ``SlowDown`` (some S3-compatible stores send a 4xx)."""
    if response.status_code < 400:
        return False
    seen = b""
    for chunk in response.iter_raw(1024):
        seen += chunk
        if len(seen) >= 4096:
            break
    return b"<Code>SlowDown</Code>" in seen


def _retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), if it says."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _sha256_header(headers: httpx.Headers) -> str | None:
    """The file's SHA-256 from ``Repr-Digest`` (RFC 9530) or ``Digest`` (RFC 3230), if sent."""
    for name in ("Repr-Digest", "Digest"):
        for item in headers.get(name, "").split(","):
            algorithm, _, value = item.strip().partition("=")
            if algorithm.strip().lower() != "sha-256":
                continue
            try:
                raw = base64.b64decode(value.strip().strip(":"), validate=True)
            except (binascii.Error, ValueError):
                continue
            if len(raw) == 32:
                return raw.hex()
    return None
