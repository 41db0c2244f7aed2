"""Splitting a block into HTTP head and payload, de-chunking, and hashing each view."""

from __future__ import annotations

import hashlib
import io

from hypothesis import given
from hypothesis import strategies as st
from warcbuilder import chunk

from archive.payload import digest_block, parse_http_head

ALGOS = {"sha256", "sha1"}


def _digest(block: bytes, *, http: bool = True, read_size: int | None = None):
    stream = io.BytesIO(block)
    if read_size is not None:
        raw = stream

        class Trickle(io.RawIOBase):
            def read(self, n: int = -1) -> bytes:
                return raw.read(read_size)

        stream = Trickle()  # type: ignore[assignment]
    return digest_block(stream, http=http, block_algorithms=ALGOS, payload_algorithms=ALGOS)


def test_plain_response_payload_is_body_after_headers() -> None:
    body = b"<html>hello</html>"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 18\r\n\r\n"
    result = _digest(head + body)
    assert result.http is not None and result.http.status == 200
    assert result.http.get("content-type") == "text/html"
    assert result.payload["sha256"] == hashlib.sha256(body).digest()
    assert result.payload_length == len(body)
    assert result.block["sha1"] == hashlib.sha1(head + body).digest()
    assert result.payload_as_stored is None
    assert result.problems == ()


def test_chunked_response_has_entity_and_stored_views() -> None:
    body = b"The quick brown fox jumps over the lazy dog. " * 50
    stored = chunk(body, [7, 100, 1000])
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    result = _digest(head + stored)
    assert result.payload["sha256"] == hashlib.sha256(body).digest()
    assert result.payload_length == len(body)
    assert result.payload_as_stored is not None
    assert result.payload_as_stored["sha256"] == hashlib.sha256(stored).digest()
    assert result.problems == ()


@given(
    body=st.binary(max_size=3000),
    sizes=st.lists(st.integers(1, 700), min_size=1, max_size=8),
    read_size=st.integers(1, 97),
)
def test_dechunking_is_independent_of_how_the_block_is_read(
    body: bytes, sizes: list[int], read_size: int
) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    result = _digest(head + chunk(body, sizes), read_size=read_size)
    assert result.payload["sha256"] == hashlib.sha256(body).digest()
    assert result.problems == ()


def test_broken_chunking_falls_back_to_stored_bytes_and_says_so() -> None:
    stored = b"zz\r\nnot hex at all\r\n0\r\n\r\n"
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    result = _digest(head + stored)
    assert result.payload["sha256"] == hashlib.sha256(stored).digest()
    assert result.payload_as_stored is None
    assert any("invalid chunked transfer-encoding" in p for p in result.problems)


def test_chunked_body_cut_before_last_chunk_is_reported() -> None:
    stored = chunk(b"x" * 100, [40])[:-5]
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    result = _digest(head + stored)
    assert any("ends before its last chunk" in p for p in result.problems)


def test_head_only_block_has_empty_payload() -> None:
    head = b"HTTP/1.1 304 Not Modified\r\nETag: x\r\n\r\n"
    result = _digest(head)
    assert result.http is not None and result.http.status == 304
    assert result.payload_length == 0
    assert result.payload["sha256"] == hashlib.sha256(b"").digest()


def test_bare_lf_line_endings_are_accepted() -> None:
    result = _digest(b"HTTP/1.0 200 OK\nContent-Type: text/plain\n\nhello")
    assert result.http is not None and result.http.get("Content-Type") == "text/plain"
    assert result.payload["sha256"] == hashlib.sha256(b"hello").digest()


def test_non_http_block_is_all_payload() -> None:
    result = _digest(b"just some bytes", http=False)
    assert result.http is None
    assert result.payload["sha256"] == hashlib.sha256(b"just some bytes").digest()


def test_block_claimed_http_but_not_http_is_reported_and_kept_whole() -> None:
    block = b"\x89PNG\r\n\x1a\n\x00\x00binary\r\n\r\nmore"
    result = _digest(block)
    assert result.http is None
    assert result.payload["sha256"] == hashlib.sha256(block).digest()
    assert any("not an HTTP message" in p for p in result.problems)


def test_request_head_parses_without_status() -> None:
    head = parse_http_head(b"GET /a?b=1 HTTP/1.1\r\nHost: example.org\r\n")
    assert head is not None and head.status is None and head.get("host") == "example.org"


def test_folded_header_lines_are_joined() -> None:
    head = parse_http_head(b"HTTP/1.1 200 OK\r\nX-Long: one\r\n  two\r\n")
    assert head is not None and head.get("X-Long") == "one two"


def test_sink_receives_the_entity_bytes() -> None:
    body = b"abc" * 1000
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
    received: list[bytes] = []
    digest_block(
        io.BytesIO(head + chunk(body, [10, 500])),
        http=True,
        block_algorithms=set(),
        payload_algorithms=set(),
        sink=received.append,
    )
    assert b"".join(received) == body
