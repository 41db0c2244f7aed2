"""Throughput and peak memory of `archivist export` on generated HTML pages.

    python bench/export_throughput.py [DOCUMENTS ...]     (default: 5000 20000)

Each input is a per-record gzip WARC of request/response pairs captured in 2019-2021 (all
`pre`), whose pages look like typical article pages: a <head> with inline CSS and script, a
navigation bar of 40 links, an article of 6-30 paragraphs of real English sentences (drawn
from archivist's sample pages, so every page has its own text), a sidebar and a footer; about
12 KB of HTML and 5 KB of main text per page, 5% of the pages a copy of an earlier one.

The catalog is filled with `archivist ingest` (text stage included), then the export runs in
a fresh `archivist export --no-progress` process: extraction, language id, deduplication and
Parquet writing, in one process, start-up (imports, language model) included. Peak RSS is
that child's own maxrss (os.wait4).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from base64 import b32encode
from pathlib import Path

from archive.samples import PAGES

SENTENCES = sorted(
    {
        s.strip() + "."
        for _, paragraphs in PAGES.values()
        for p in paragraphs
        for s in p.split(". ")
        if len(s.strip()) > 20
    }
)
CSS = "body{font-family:Georgia,serif;margin:0 auto;max-width:42em}" * 30
SCRIPT = "window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}" * 30


def _sha1(data: bytes) -> str:
    return "sha1:" + b32encode(hashlib.sha1(data).digest()).decode()


def _record(fields: list[tuple[str, str]], block: bytes) -> bytes:
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
    head += f"Content-Length: {len(block)}\r\n\r\n"
    return gzip.compress(head.encode() + block + b"\r\n\r\n", compresslevel=6, mtime=0)


def page(rng: random.Random, n: int) -> bytes:
    title = " ".join(rng.sample(SENTENCES, 1)[0].split()[:6])
    paragraphs = []
    for _ in range(rng.randint(6, 30)):
        sentences = rng.choices(SENTENCES, k=rng.randint(1, 4))
        paragraphs.append(f"<p>{' '.join(sentences)} (item {n}.{len(paragraphs)})</p>")
    nav = "".join(f'<li><a href="/section/{i}">Section {i}</a></li>' for i in range(40))
    side = "".join(f'<li><a href="/related/{rng.randint(1, 10**6)}">Related story</a></li>' * 3)
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{title}</title>"
        f"<style>{CSS}</style><script>{SCRIPT}</script></head><body>"
        f"<header><nav><ul>{nav}</ul></nav></header><main><article><h1>{title}</h1>"
        + "".join(paragraphs)
        + f"</article><aside><ul>{side}</ul></aside></main>"
        "<footer><p>© The Riverside Gazette. All rights reserved.</p></footer></body></html>"
    ).encode()


def write_warc(path: Path, documents: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    pages: list[bytes] = []
    html_bytes = 0
    with path.open("wb") as out:
        for n in range(documents):
            body = rng.choice(pages) if pages and rng.random() < 0.05 else page(rng, n)
            pages = [*pages[-99:], body]
            html_bytes += len(body)
            url = f"http://site{n % 97}.example.org/story/{n}.html"
            date = f"20{rng.randint(19, 21)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:00:00Z"
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            request = f"GET /story/{n}.html HTTP/1.1\r\nHost: site{n % 97}.example.org\r\n\r\n"
            base = [("WARC-Target-URI", url), ("WARC-Date", date)]
            out.write(
                _record(
                    [("WARC-Type", "request"), *base, ("WARC-Record-ID", f"<urn:x:q{n}>")],
                    request.encode(),
                )
            )
            out.write(
                _record(
                    [
                        ("WARC-Type", "response"),
                        *base,
                        ("WARC-Record-ID", f"<urn:x:r{n}>"),
                        ("Content-Type", "application/http; msgtype=response"),
                        ("WARC-Payload-Digest", _sha1(body)),
                        ("WARC-Block-Digest", _sha1(http + body)),
                    ],
                    http + body,
                )
            )
    return html_bytes


def run(args: list[str]) -> tuple[float, float]:
    """Run ``args``; return (seconds, peak RSS in MB) of that process alone."""
    start = time.perf_counter()
    child = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{' '.join(args)} failed")
    return seconds, usage.ru_maxrss / 1024


def main(sizes: list[int]) -> None:
    archivist = str(Path(sys.executable).with_name("archivist"))
    print(
        "| pages | HTML MB | documents | text MB | seconds | documents/s | text MB/s "
        "| peak RSS MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for documents in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            warc = Path(tmp) / "pages.warc.gz"
            html = write_warc(warc, documents)
            db = str(Path(tmp) / "c.db")
            run([archivist, "--db", db, "ingest", "--no-progress", str(warc)])
            out = Path(tmp) / "out"
            seconds, peak = run([archivist, "--db", db, "export", "--no-progress", str(out)])
            counts = json.loads((out / "manifest.json").read_text())["counts"]
            text_mb = counts["text_bytes"] / 1e6
            print(
                f"| {documents} | {html / 1e6:.0f} | {counts['rows']} | {text_mb:.1f} "
                f"| {seconds:.1f} | {counts['rows'] / seconds:.0f} | {text_mb / seconds:.2f} "
                f"| {peak:.0f} |"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [5000, 20000])
