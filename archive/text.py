"""Where a payload becomes normalised main text, and the text its SHA-256 ("same text" evidence).

The same article captured in 2019 and re-rendered in 2024 rarely has the same bytes: the
template, the navigation, the class names, the inline tags and the encoding all change. What
survives is the article's text, so this module reduces a payload to that text as follows:

1. undo the HTTP Content-Encoding (gzip, deflate, br), with the output capped at 64 MiB;
2. choose a charset: BOM, then the Content-Type ``charset=``, then ``<meta charset>`` (HTML),
   then uchardet; a declared charset that fails on the bytes is skipped (see ``detect_charset``);
3. HTML: parse with resiliparse (Lexbor) and take the main content with these options:

   - ``main_content=True``: resiliparse's landmark/class heuristics drop page-level
     ``<nav>``, ``<header>`` menus, ``<aside>``, ``<footer>``, sidebars, cookie banners, ads and
     share widgets, which are exactly what a re-render changes;
   - ``comments=False``: reader comments keep arriving after a capture, so a later capture of
     the same article would otherwise never match an earlier one;
   - ``post_meta=False``: bylines and dates are re-formatted by templates ("3 March 2019" vs
     "2019-03-03" vs "5 years ago");
   - ``alt_texts=False``, ``links=False``, ``list_bullets=False``, ``form_fields=False``,
     ``noscript=False``: image alt texts (logos), link targets (relative vs absolute,
     tracking parameters), bullet glyphs and numbering (``<ul>`` vs ``<ol>``), form widgets
     and no-script notices belong to the markup, not to the article;
   - ``preserve_formatting=False``: line structure is a property of the markup (``<p>`` vs
     ``<div>`` vs ``<br>``), and ``normalise_text`` folds it away in any case;
   - ``skip_elements``: ARIA landmark roles (banner, navigation, complementary, contentinfo,
     search) as well, which the heuristics do not check on a ``<div>``.

   When the heuristics leave nothing (a page that is all "chrome" by their rules), the full
   visible text is used instead;
4. ``normalise_text``: NFC, invisible format characters removed, all whitespace folded.

Known limit: chrome that neither the heuristics nor a landmark role identify (a
``<div class="topbar">`` of links, a "Share on Facebook" line, a tag list) stays in the text,
and then two templates of one article hash differently. A match is strong evidence; a
mismatch proves nothing.

Failures are values: ``extract_text`` never raises on bad input, it returns an
``ExtractedText`` whose ``error`` says why in one line.
"""

from __future__ import annotations

import codecs
import contextlib
import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.metadata import version

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5
from resiliparse.parse.html import HTMLTree

from archive.errors import ArchiveError

try:
    import brotli
except ImportError:  # pragma: no cover - brotli is optional
    brotli = None

# Bump the suffix whenever the extraction options or normalise_text change: every stored
# text hash names the extractor that made it, so old and new hashes are never compared blindly.
EXTRACTOR = f"resiliparse {version('resiliparse')} archivist-text/1"

HTML_MIMES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_MIMES = HTML_MIMES | frozenset({"text/plain", "text/markdown"})

# Far above any real page, far below what a zip bomb (deflate reaches 1032:1) inflates to.
MAX_DECODED_BYTES = 64 << 20

# Characters that take no space on screen and that templates and CMSs insert or drop at
# will: soft hyphen (&shy; hyphenation hints), zero-width space (line-break hints), word
# joiner, and U+FEFF (a BOM left inside the text). ZWJ/ZWNJ are kept: they are orthographic
# in Persian, Indic scripts and emoji.
_INVISIBLE_CHARS = "\u00ad\u200b\u2060\ufeff"
_INVISIBLE = dict.fromkeys(map(ord, _INVISIBLE_CHARS))

# ARIA landmarks are the page's own word on what is chrome; resiliparse's heuristics look at
# tag names and classes and let, e.g., <div role="navigation"> through.
_LANDMARK_CHROME = [
    f"[role~={role}]" for role in ("banner", "navigation", "complementary", "contentinfo", "search")
]

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CHARSET_PARAM = re.compile(rb"""charset\s*=\s*["']?\s*([A-Za-z0-9._:()-]+)""", re.IGNORECASE)
# HTML §13.2.3.2 prescans the first 1024 bytes; real pages put a long <head> first, so 4 KiB.
_PRESCAN_BYTES = 4096
_META_CHARSET = re.compile(rb"""<meta\b[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9._:()-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml\b[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:()-]+)""", re.I)
# A declared charset is believed while at most 1 in 100 of the non-ASCII bytes fail to decode
# (a stray byte in a UTF-8 page). A wrong label fails on nearly all of them: windows-1251
# read as UTF-8 fails on 18,342 of 18,362 non-ASCII bytes in the Common Crawl sample.
_NON_ASCII_BYTES_PER_TOLERATED_ERROR = 100
_BINARY_SNIFF_BYTES = 1024
_ASCII = bytes(range(128))


class TextError(ArchiveError, ValueError):
    """A payload cannot be turned into text (corrupt or unsupported Content-Encoding)."""


@dataclass(frozen=True)
class ExtractedText:
    """The normalised main text of one payload, or why there is none."""

    text: str | None
    text_sha256: str | None
    charset: str | None
    error: str | None


def normalise_text(text: str) -> str:
    """Text reduced to what survives re-rendering: NFC, no invisible characters, one line.

    Every run of whitespace (``str.isspace``: spaces, tabs, newlines, NBSP, ideographic
    space, ...) becomes one space, across lines: line breaks come from markup, not from the
    article. Case and punctuation are kept, so different wording always hashes differently.
    Idempotent.
    """
    # Remove invisibles before NFC: removing one between a letter and a combining mark
    # could otherwise leave a sequence that NFC would compose on a second pass.
    # str.translate takes about 70 ns per character of a non-ASCII text, a search for each
    # invisible character a hundred times less: translate only texts that hold one.
    if any(char in text for char in _INVISIBLE_CHARS):
        text = text.translate(_INVISIBLE)
    return " ".join(unicodedata.normalize("NFC", text).split())


def decode_content(payload: bytes, content_encoding: str | None) -> bytes:
    """The payload with its HTTP Content-Encoding undone; TextError when it cannot be.

    Codings listed as ``gzip, br`` were applied in that order and are undone in reverse
    (RFC 9110 §8.4). A "gzip" payload that does not start with the gzip magic bytes is
    returned as is: some crawlers store the body decoded but keep the header (warcio reads
    such records the same way).
    """
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    data = payload
    for coding in reversed([c for c in codings if c]):
        if coding == "identity":
            continue
        if coding in ("gzip", "x-gzip"):
            if data.startswith(b"\x1f\x8b"):
                data = _inflate(data, zlib.MAX_WBITS | 16, "gzip")
        elif coding == "deflate":
            # "deflate" means zlib-wrapped (RFC 9110 §8.4.1.2), yet many servers send raw
            # deflate; a zlib stream starts with a header whose 16 bits are a multiple of 31.
            zlib_header = (
                len(data) >= 2 and data[0] & 0x0F == 8 and int.from_bytes(data[:2]) % 31 == 0
            )
            data = _inflate(data, zlib.MAX_WBITS if zlib_header else -zlib.MAX_WBITS, "deflate")
        elif coding == "br":
            if brotli is None:
                raise TextError("br content-encoding needs the brotli module, not installed")
            data = _unbrotli(data)
        else:
            raise TextError(f"unsupported content-encoding {coding!r}")
    return data


def _inflate(data: bytes, wbits: int, name: str) -> bytes:
    """Decompress a zlib, raw deflate or (possibly multi-member) gzip stream, bounded."""
    out = bytearray()
    while True:
        inflater = zlib.decompressobj(wbits)
        try:
            out += inflater.decompress(data, MAX_DECODED_BYTES + 1 - len(out))
        except zlib.error as exc:
            raise TextError(f"{name} content-encoding is corrupt ({exc})") from None
        if len(out) > MAX_DECODED_BYTES:
            raise TextError(f"{name} content-encoding decodes to more than 64 MiB")
        if not inflater.eof:
            raise TextError(f"{name} content-encoding is truncated")
        data = inflater.unused_data
        # Concatenated gzip members form one body (RFC 1952 §2.2); other trailing bytes
        # are ignored, as browsers do.
        if name != "gzip" or not data.startswith(b"\x1f\x8b"):
            return bytes(out)


def _unbrotli(data: bytes) -> bytes:
    """Decompress a brotli stream, bounded."""
    assert brotli is not None
    decompressor = brotli.Decompressor()
    try:
        out: bytes = decompressor.process(data, output_buffer_limit=MAX_DECODED_BYTES + 1)
    except brotli.error as exc:
        raise TextError(f"br content-encoding is corrupt ({exc})") from None
    if len(out) > MAX_DECODED_BYTES:
        raise TextError("br content-encoding decodes to more than 64 MiB")
    if not decompressor.is_finished():
        raise TextError("br content-encoding is truncated")
    return out


def detect_charset(payload: bytes, content_type: str | None) -> str:
    """The Python codec to decode ``payload`` with ("utf-8", "gb18030", "cp1251", ...).

    Precedence: a BOM; the ``charset=`` of ``content_type``; ``<meta charset>`` or the XML
    declaration in the first 4 KiB (unless ``content_type`` names a non-HTML type); uchardet.
    Labels are mapped by the WHATWG rules (resiliparse's ``map_encoding_to_html5``: gb2312 and
    GBK read as gb18030, iso-8859-1 as cp1252). A label that is unknown, or that fails on more
    than 1 in 100 of the non-ASCII bytes, is skipped: servers and templates mislabel charsets.
    """
    media_type = _media_type(content_type)
    return _choose_charset(payload, content_type, media_type is None or media_type in HTML_MIMES)[0]


def extract_text(
    payload: bytes,
    *,
    mime: str | None,
    content_type: str | None = None,
    content_encoding: str | None = None,
) -> ExtractedText:
    """The normalised main text of an HTTP payload; never raises on bad input.

    ``mime`` picks the extractor (HTML or plain text; other types are refused); when it is
    None the media type of ``content_type`` is used, and a payload of unknown type is read as
    HTML (plain text parsed as HTML gives its text back). ``content_encoding`` is the HTTP
    Content-Encoding still applied to ``payload`` (None when the reader already undid it).
    """
    media_type = _media_type(mime) or _media_type(content_type)
    if media_type is not None and media_type not in TEXT_MIMES:
        return _failure(f"not a text media type: {media_type}")
    try:
        data = decode_content(payload, content_encoding)
    except TextError as exc:
        return _failure(str(exc))
    is_html = media_type is None or media_type in HTML_MIMES
    charset, decoded = _choose_charset(data, content_type, is_html)
    if not charset.startswith("utf-16") and b"\x00" in data[:_BINARY_SNIFF_BYTES]:
        # No text format puts NUL bytes in its first KiB; images, PDFs and archives do
        # (a mislabelled PNG is a common "text/html" response).
        return _failure("binary content, not text", charset)
    if is_html:
        try:
            tree = HTMLTree.parse(decoded)
            raw = _visible_text(tree, main_content=True)
            if not raw.strip():
                raw = _visible_text(tree, main_content=False)
        except Exception as exc:  # resiliparse on pathological input: a value, not a crash
            return _failure(f"html extraction failed: {type(exc).__name__}: {exc}", charset)
    else:
        raw = decoded
    text = normalise_text(raw)
    if not text:
        return _failure("no text", charset)
    return ExtractedText(text, hashlib.sha256(text.encode("utf-8")).hexdigest(), charset, None)


def _visible_text(tree: HTMLTree, *, main_content: bool) -> str:
    """The text of ``tree`` with the options the module docstring explains."""
    return extract_plain_text(
        tree,
        preserve_formatting=False,
        main_content=main_content,
        comments=False,
        post_meta=False,
        alt_texts=False,
        links=False,
        list_bullets=False,
        form_fields=False,
        noscript=False,
        skip_elements=_LANDMARK_CHROME if main_content else None,
    )


def _failure(error: str, charset: str | None = None) -> ExtractedText:
    """An ExtractedText without text; ``error`` is folded onto one line."""
    return ExtractedText(
        text=None, text_sha256=None, charset=charset, error=" ".join(error.split())
    )


def _media_type(value: str | None) -> str | None:
    """``text/html`` from ``Text/HTML; charset=utf-8``; None for None or an empty value."""
    if value is None:
        return None
    media_type = value.split(";", 1)[0].strip().lower()
    return media_type or None


def _choose_charset(data: bytes, content_type: str | None, is_html: bool) -> tuple[str, str]:
    """The charset to use for ``data`` and the text it decodes to."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            # A BOM outranks every label (WHATWG Encoding §6 "decode"; HTML §13.2.3.2).
            return codec, _decode(data[len(bom) :], codec)[0]
    non_ascii = 0 if data.isascii() else len(data) - len(data.translate(None, _ASCII))
    best: tuple[int, str, str] | None = None
    for codec in _candidate_codecs(data, content_type, is_html):
        text, errors = _decode(data, codec)
        if errors * _NON_ASCII_BYTES_PER_TOLERATED_ERROR <= non_ascii:
            return codec, text
        if best is None or errors < best[0]:
            best = (errors, codec, text)
    # Nothing fits: the least damaged reading, with U+FFFD where bytes failed.
    assert best is not None  # detection always yields a codec
    return best[1], best[2]


def _candidate_codecs(data: bytes, content_type: str | None, is_html: bool) -> Iterator[str]:
    """Codecs in order of precedence, each once; uchardet (the slowest step) runs last, lazily."""
    seen: set[str] = set()
    labels: list[tuple[bytes, bool]] = []
    if content_type:
        match = _CHARSET_PARAM.search(content_type.encode("latin-1", "replace"))
        if match:
            labels.append((match.group(1), False))
    if is_html:
        head = data[:_PRESCAN_BYTES]
        match = _META_CHARSET.search(head) or _XML_ENCODING.search(head)
        if match:
            labels.append((match.group(1), True))
    for label, in_document in labels:
        codec = _codec_for(label.decode("ascii"), in_document=in_document)
        if codec is not None and codec not in seen:
            seen.add(codec)
            yield codec
    detected = _codec_for(detect_encoding(data) or "utf-8", in_document=False) or "utf-8"
    if detected not in seen:
        yield detected


def _codec_for(label: str, *, in_document: bool) -> str | None:
    """The Python codec for a charset label (WHATWG Encoding §4.2), or None when it is unknown."""
    codec = map_encoding_to_html5(label, fallback_utf8=False)
    if codec is None:
        return None
    try:
        codecs.lookup(codec)
    except LookupError:
        return None
    # WHATWG Encoding §10.1: the GBK decoder is the gb18030 decoder (a superset of gb2312/GBK).
    if codec == "gbk":
        codec = "gb18030"
    # HTML §13.2.3.2: a UTF-16 label found inside an ASCII-readable document means UTF-8.
    if in_document and codec.startswith("utf-16"):
        codec = "utf-8"
    return codec


def _decode(data: bytes, codec: str) -> tuple[str, int]:
    """``data`` decoded with U+FFFD for bad bytes, and how many bytes (sequences) were bad.

    A multi-byte character cut off at the very end (a truncated capture) is dropped rather
    than counted against the charset.
    """
    try:
        decoder = codecs.getincrementaldecoder(codec)(errors="replace")
    except LookupError:
        return "", len(data) + 1
    text: str = decoder.decode(data, final=False)
    errors = text.count("\ufffd")
    if errors:
        # Real U+FFFD characters in the source are not decoding errors.
        with contextlib.suppress(UnicodeEncodeError):
            errors -= data.count("\ufffd".encode(codec))
    return text, errors
