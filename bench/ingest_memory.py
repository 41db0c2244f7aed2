"""Peak memory and throughput of byte-level `archivist ingest --no-text` on generated WARCs.

    python bench/ingest_memory.py [SIZE_MB ...]     (default: 64 256)

Each input is a per-record gzip WARC of request/response pairs with HTML-like pages of 5-60 KB.
The byte-level ingest (reading, hashing, verifying, cataloguing and labelling; the text stage is
measured by the export benchmark) runs in a fresh subprocess against a new SQLite catalog; peak
RSS is that child's maxrss. Flat memory means the peak does not grow with the input size.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import resource
import subprocess
import sys
import tempfile
import time
from base64 import b32encode
from pathlib import Path

WORDS = [
    "the",
    "river",
    "festival",
    "library",
    "garden",
    "news",
    "report",
    "council",
    "weather",
    "market",
    "school",
    "road",
]


def _sha1(data: bytes) -> str:
    return "sha1:" + b32encode(hashlib.sha1(data).digest()).decode()


def _record(fields: list[tuple[str, str]], block: bytes) -> bytes:
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields)
    head += f"Content-Length: {len(block)}\r\n\r\n"
    return gzip.compress(head.encode() + block + b"\r\n\r\n", compresslevel=6, mtime=0)


def write_warc(path: Path, size_mb: int, seed: int = 1) -> int:
    rng = random.Random(seed)
    target = size_mb << 20
    written = records = 0
    with path.open("wb") as out:
        n = 0
        while written < target:
            n += 1
            url = f"http://site{n % 97}.example.org/page/{n}.html"
            date = (
                f"20{rng.randint(10, 24):02d}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}T12:00:00Z"
            )
            words = rng.choices(WORDS, k=rng.randint(800, 9000))
            body = ("<html><body><p>" + " ".join(words) + "</p></body></html>").encode()
            http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"
            request = f"GET /page/{n}.html HTTP/1.1\r\nHost: site{n % 97}.example.org\r\n\r\n"
            for fields, block in (
                (
                    [
                        ("WARC-Type", "request"),
                        ("WARC-Target-URI", url),
                        ("WARC-Date", date),
                        ("WARC-Record-ID", f"<urn:uuid:00000000-0000-0000-0000-{2 * n:012d}>"),
                    ],
                    request.encode(),
                ),
                (
                    [
                        ("WARC-Type", "response"),
                        ("WARC-Target-URI", url),
                        ("WARC-Date", date),
                        ("WARC-Record-ID", f"<urn:uuid:00000000-0000-0000-0000-{2 * n + 1:012d}>"),
                        ("Content-Type", "application/http; msgtype=response"),
                        ("WARC-Payload-Digest", _sha1(body)),
                        ("WARC-Block-Digest", _sha1(http + body)),
                    ],
                    http + body,
                ),
            ):
                data = _record(fields, block)
                out.write(data)
                written += len(block)
                records += 1
    return records


def main(sizes: list[int]) -> None:
    archivist = Path(sys.executable).with_name("archivist")
    print(
        "| input (uncompressed MB) | file MB | records | seconds | MB/s (uncompressed) "
        "| peak RSS MB |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            warc = Path(tmp) / f"bench-{size}.warc.gz"
            records = write_warc(warc, size)
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            start = time.perf_counter()
            subprocess.run(
                [
                    str(archivist),
                    "--db",
                    str(Path(tmp) / "c.db"),
                    "ingest",
                    "--no-progress",
                    "--no-text",
                    str(warc),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            seconds = time.perf_counter() - start
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            # ru_maxrss of children is the max over all children so far: sizes run smallest first.
            print(
                f"| {size} | {warc.stat().st_size / 2**20:.1f} | {records} | {seconds:.1f} "
                f"| {size / seconds:.1f} | {max(peak, before) / 1024:.0f} |"
            )


if __name__ == "__main__":
    main([int(a) for a in sys.argv[1:]] or [64, 256])
