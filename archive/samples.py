"""The project's own small sample web archive: three crawls of a fictional town's web.

Used by the README demo (ingest → lookup → stats). Every byte is deterministic: fixed dates,
record ids derived from content, gzip members with mtime 0. The 2019 and 2021 crawls fall
before the cutoff; the 2024 recrawl falls after it and holds pages unchanged since 2019
(identical payloads), one page restyled with identical text, revisits, and new pages.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path
from urllib.parse import urlsplit

NEWS, GARDEN, LIB, BLOG = (
    "http://news.example.org",
    "http://garden.example.com",
    "http://library.riverside.test",
    "http://blog.example.com",
)
# url -> (title, paragraphs). Curly quotes and accents on purpose: bodies are UTF-8, not ASCII.
PAGES: dict[str, tuple[str, tuple[str, ...]]] = {
    f"{NEWS}/2019/05/river-festival.html": ("Thousands line the Alder for the river festival", (
        "More than four thousand people lined the banks of the Alder on Saturday for the "
        "twenty-first river festival, the first since the footbridge reopened after the floods.",
        "The raft race was won, for the third year running, by a crew from the fire station in "
        "a craft built from a bathtub and forty plastic drums.",
        "“It’s the first year we’ve seen kingfishers on this stretch,” said Maya Okafor, who has "
        "chaired the festival committee since 2014. “People notice when the water is clear.”")),
    f"{NEWS}/2019/05/library-hours.html": ("Library to open until eight on weekdays", (
        "Riverside Library will stay open until eight o’clock on weekday evenings from April, "
        "after the council approved a small increase to its staffing budget.",
        "Head librarian Tomás Reyes said students and shift workers had asked, again and again, "
        "for somewhere quiet to work after five.")),
    f"{GARDEN}/notes/tomatoes.html": ("Tomatoes in a north-facing yard", (
        "Three summers in, I have stopped fighting the shade. Sungold still ripens against the "
        "back fence, while the beefsteaks sulk until October and split in the first rain.",
        "The best thing I did this year was move everything into pots on castors. Twice a day "
        "I wheel them after the sun like a slow, patient shepherd.")),
    f"{LIB}/events/spring-reading.html": ("Spring reading challenge", (
        "Children aged five to twelve can collect a stamp for every book they finish between "
        "the Easter holidays and the end of May.",
        "Ten stamps earn a certificate; twenty earn a badge designed by last year’s winner.")),
    f"{BLOG}/2021/05/sourdough-heatwave.html": ("Keeping a starter alive in a heatwave", (
        "The starter I named Gerald has survived two house moves, a week of neglect and one "
        "incident involving the dog, but last week’s heat nearly finished him off.",
        "What worked was a stiffer feed, one part water to two of flour, and an afternoon in "
        "the bottom of the fridge. He is bubbling again, if a little sour about it all.")),
    f"{BLOG}/2021/06/year-of-cycling.html": ("A year of cycling to work", (
        "I kept a notebook on the handlebars for twelve months: 3,140 kilometres, four "
        "punctures, one broken chain and two days when I truly missed the car.",)),
    f"{NEWS}/2024/02/ferry-timetable.html": ("Ferry timetable adds an early sailing", (
        "From March the harbour ferry will leave at 6:15 on weekdays, forty-five minutes "
        "earlier than now, after a petition signed by more than six hundred commuters.",)),
    f"{BLOG}/2024/01/heat-pump-winter.html": ("Our heat pump in the coldest week", (
        "When the thermometer on the shed read minus eleven I braced for a cold house and a "
        "large bill. Neither arrived, though the outdoor unit spent a morning iced like a "
        "wedding cake.",)),
}  # fmt: skip
# Front pages: url -> (title, the pages they link to).
INDEXES: dict[str, tuple[str, list[str]]] = {
    f"{NEWS}/": ("The Riverside Gazette", [u for u in PAGES if u.startswith(f"{NEWS}/2019/")]),
    f"{BLOG}/": ("Crumbs and Cogs", [u for u in PAGES if u.startswith(f"{BLOG}/2021/")]),
}
FILES = {
    f"{NEWS}/robots.txt": ("text/plain", b"User-agent: *\nDisallow: /admin/\n"),
    f"{NEWS}/static/logo.png": ("image/png", base64.b64decode(
        "iVBORw0KGgoAAAANSUhEUgAAAAoAAAAKCAIAAAACUFjqAAAAjUlEQVR42n3PoQ1DMQxF0T9PBsgAHsADeAAPEBQU"
        "EBxsHBwcXHy3aiu1+q1atRdZOuT5uP7tOK80SEGapMUn504e5CBP8iJvXiwV6chAApnIQjZy4cla0Y4ONNCJLnSj"
        "J1vFOjawwCa2sI2d7BXv+MADn/jCN37yvdIpgxKUSVmU92mP2qAFbdK+H/vVDXnF6J23NeCMAAAAAElFTkSuQmCC")),
}  # fmt: skip


@dataclass(frozen=True)
class Crawl:
    """One WARC file: its name, when the crawl started, and its captures in order.

    A capture is (how, url): "get" a plain response, "chunked" a response stored with
    chunked transfer-encoding, "restyled" the page in the 2024 site template, "revisit" an
    identical-payload revisit of the first capture of the url.
    """

    filename: str
    start: str
    captures: tuple[tuple[str, str], ...]


CRAWLS = (
    Crawl("2019-example-news.warc.gz", "2019-05-20T09:12:00Z", (
        ("get", f"{NEWS}/robots.txt"), ("get", f"{NEWS}/"),
        ("get", f"{NEWS}/2019/05/river-festival.html"),
        ("get", f"{NEWS}/2019/05/library-hours.html"),
        ("get", f"{NEWS}/static/logo.png"), ("get", f"{GARDEN}/notes/tomatoes.html"),
        ("get", f"{LIB}/events/spring-reading.html"))),
    Crawl("2021-example-blog.warc", "2021-06-20T17:40:00Z", (
        ("get", f"{BLOG}/"), ("chunked", f"{BLOG}/2021/05/sourdough-heatwave.html"),
        ("get", f"{BLOG}/2021/06/year-of-cycling.html"),
        ("revisit", f"{NEWS}/2019/05/river-festival.html"))),
    Crawl("2024-example-recrawl.warc.gz", "2024-02-27T06:05:00Z", (
        ("get", f"{NEWS}/robots.txt"), ("get", f"{NEWS}/2019/05/library-hours.html"),
        ("get", f"{NEWS}/static/logo.png"), ("restyled", f"{GARDEN}/notes/tomatoes.html"),
        ("revisit", f"{NEWS}/2019/05/river-festival.html"),
        ("revisit", f"{LIB}/events/spring-reading.html"),
        ("get", f"{NEWS}/2024/02/ferry-timetable.html"),
        ("get", f"{BLOG}/2024/01/heat-pump-winter.html"))),
)  # fmt: skip

_ID_NAMESPACE = uuid.UUID("2a1f8b7e-5c44-4e0b-9d7e-3f4c1a6b2e90")
_USER_AGENT = "Mozilla/5.0 (compatible; archivist-samples/1; +http://archive.example.org/bot)"
_REVISIT_PROFILE = "http://netpreserve.org/warc/1.0/revisit/identical-payload-digest"
_HTML = "text/html; charset=utf-8"
_HTTP_RESPONSE = "application/http; msgtype=response"
_HTTP_REQUEST = "application/http; msgtype=request"
_WARC_FIELDS = "application/warc-fields"

Fields = list[tuple[str, str]]


def _sha1(data: bytes) -> str:
    return "sha1:" + base64.b32encode(hashlib.sha1(data).digest()).decode("ascii")


def _html(title: str, body: str, restyled: bool) -> bytes:
    """A page in the 2019 template, or (``restyled``) the 2024 one: new markup, same text."""
    if restyled:
        page = (
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width">\n'
            f'<link rel="stylesheet" href="/s.css">\n<title>{title}</title>\n</head>\n<body>\n'
            f'<article class="post">\n<h1 class="post-title">{title}</h1>\n{body}\n</article>\n'
            "</body>\n</html>\n"
        )
    else:
        page = (
            f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body>\n<h1>{title}</h1>\n{body}\n</body></html>\n"
        )
    return page.encode("utf-8")


def _payload(url: str, restyled: bool = False) -> tuple[str, bytes]:
    """The content type and entity body the server sends for ``url``."""
    if url in FILES:
        return FILES[url]
    if url in INDEXES:
        title, links = INDEXES[url]
        items = "".join(f'<li><a href="{u}">{escape(PAGES[u][0])}</a></li>\n' for u in links)
        return _HTML, _html(title, f"<ul>\n{items}</ul>", restyled)
    title, paras = PAGES[url]
    body = "\n".join(f"<p>{escape(p, quote=False)}</p>" for p in paras)
    return _HTML, _html(escape(title), body, restyled)


def _record(
    kind: str, url: str | None, date: str, block: bytes, ctype: str, fields: Fields
) -> tuple[str, bytes]:
    """A WARC/1.0 record's id and bytes; the id is derived from type, url, date and block."""
    rid = f"<urn:uuid:{uuid.uuid5(_ID_NAMESPACE, f'{kind} {url} {date} {_sha1(block)}')}>"
    head = [("WARC-Type", kind), ("WARC-Record-ID", rid), ("WARC-Date", date)]
    head += [("WARC-Target-URI", url)] if url else []
    head += [*fields, ("WARC-Block-Digest", _sha1(block)), ("Content-Type", ctype)]
    head += [("Content-Length", str(len(block)))]
    lines = "".join(f"{name}: {value}\r\n" for name, value in head)
    return rid, f"WARC/1.0\r\n{lines}\r\n".encode() + block + b"\r\n\r\n"


def _http(start: str, headers: Fields) -> bytes:
    return (start + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n").encode()


def _chunked(body: bytes, size: int = 200) -> bytes:
    """HTTP/1.1 chunked framing (RFC 9112 §7.1) in chunks of ``size`` bytes."""
    pieces = (body[i : i + size] for i in range(0, len(body), size))
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in pieces) + b"0\r\n\r\n"


def _capture(how: str, url: str, when: datetime, first: dict[str, tuple[str, str]]) -> list[bytes]:
    """The records a crawler writes for one fetch: request, response or revisit, outlinks."""
    date = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    ctype, payload = _payload(url, restyled=how == "restyled")
    http = [("Date", format_datetime(when, usegmt=True)), ("Server", "nginx/1.14.2")]
    http += [("Content-Type", ctype)]
    if how == "revisit":
        # WARC 1.1 §6.7.2: the block keeps only the new HTTP head; the payload is the first
        # capture's, named by its record id and (unchanged) payload digest.
        first_id, first_date = first[url]
        fields = [
            ("WARC-Profile", _REVISIT_PROFILE),
            ("WARC-Refers-To", first_id),
            ("WARC-Refers-To-Target-URI", url),
            ("WARC-Refers-To-Date", first_date),
        ]
        block = _http("HTTP/1.1 200 OK", [*http, ("Content-Length", str(len(payload)))])
        kind = "revisit"
    else:
        chunked = how == "chunked"
        length = ("Content-Length", str(len(payload)))
        framing = ("Transfer-Encoding", "chunked") if chunked else length
        stored = _chunked(payload) if chunked else payload
        block, kind, fields = _http("HTTP/1.1 200 OK", [*http, framing]) + stored, "response", []
    # WARC 1.1 §6.3.2: the payload digest covers the entity body with chunking removed.
    fields.append(("WARC-Payload-Digest", _sha1(payload)))
    rid, response = _record(kind, url, date, block, _HTTP_RESPONSE, fields)
    first.setdefault(url, (rid, date))
    target = urlsplit(url)
    request = _http(
        f"GET {target.path} HTTP/1.1",
        [("Host", target.netloc), ("User-Agent", _USER_AGENT), ("Accept", "*/*")],
    )
    concurrent = [("WARC-Concurrent-To", rid)]
    records = [_record("request", url, date, request, _HTTP_REQUEST, concurrent)[1], response]
    if url in INDEXES:
        # Heritrix-style outlinks: what the crawler found on the page and queued.
        links = "".join(f"outlink: {u} L a/@href\r\n" for u in INDEXES[url][1]).encode()
        records.append(_record("metadata", url, date, links, _WARC_FIELDS, concurrent)[1])
    return records


def write_samples(out_dir: Path) -> list[Path]:
    """Write the sample WARC files into ``out_dir`` and return their paths, oldest first."""
    out_dir.mkdir(parents=True, exist_ok=True)
    first: dict[str, tuple[str, str]] = {}  # url -> (record id, date) of its first capture
    paths = []
    for crawl in CRAWLS:
        info = {
            "software": "archivist-samples/1",
            "format": "WARC File Format 1.0",
            "operator": "Riverside Web Archive (fictional)",
            "isPartOf": "riverside-sample",
            "http-header-user-agent": _USER_AGENT,
            "robots": "obey",
        }
        block = "".join(f"{k}: {v}\r\n" for k, v in info.items()).encode()
        name = [("WARC-Filename", crawl.filename)]
        records = [_record("warcinfo", None, crawl.start, block, _WARC_FIELDS, name)[1]]
        start = datetime.fromisoformat(crawl.start)
        for n, (how, url) in enumerate(crawl.captures, start=1):
            records += _capture(how, url, start + timedelta(seconds=7 * n), first)
        path = out_dir / crawl.filename
        if path.suffix == ".gz":
            # One gzip member per record (WARC 1.1 Annex D); mtime 0 keeps the bytes reproducible.
            records = [gzip.compress(r, mtime=0) for r in records]
        path.write_bytes(b"".join(records))
        paths.append(path)
    return paths
