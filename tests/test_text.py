"""Main text and its hash: one article under any template, any charset, any Content-Encoding."""

from __future__ import annotations

import gzip
import hashlib
import zlib
from collections.abc import Callable
from pathlib import Path

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from warcio.archiveiterator import ArchiveIterator

from archive.errors import ArchiveError
from archive.text import (
    EXTRACTOR,
    HTML_MIMES,
    TEXT_MIMES,
    ExtractedText,
    TextError,
    decode_content,
    detect_charset,
    extract_text,
    normalise_text,
)

TITLE = "Harbour commission revisits pier extension"
PARAGRAPHS = (
    "The harbour commission met on Tuesday to discuss the proposed extension of the eastern "
    "pier, a project first suggested in 1998 and shelved twice since.",
    "Residents who attended the meeting raised concerns about traffic on Quay Street during "
    "the eighteen months of construction, and about the noise of pile driving at night.",
    "The commission chair, Margaret Ellis, said the final design would be published in the "
    "spring and that a second public consultation would follow before any contract is signed.",
)
ARTICLE_TEXT = " ".join((TITLE, *PARAGRAPHS))
# Words that only the page chrome of the templates below contains.
CHROME_WORDS = ("Home", "Subscribe", "cookies", "Privacy", "Most read", "Weather", "Gazette")

RUSSIAN = (
    "Портовая комиссия во вторник обсудила проект расширения восточного причала. Жители, "
    "пришедшие на собрание, выразили обеспокоенность движением транспорта на набережной во "
    "время строительства и шумом от забивки свай по ночам. Председатель комиссии сообщила, "
    "что окончательный проект будет опубликован весной."
)
CHINESE = (
    "港口委员会星期二开会讨论东码头扩建计划。居民们对施工期间的交通和夜间打桩的噪音表示担忧。"
    "委员会主席表示，最终设计将于春季公布，并将在签署任何合同之前进行第二次公众咨询。"
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00"
    b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def semantic_template(title: str, paragraphs: tuple[str, ...]) -> str:
    """A 2019-style HTML5 page: landmarks, an <article>, a most-read <aside>, a footer."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} | Gazette</title>
<style>p {{ color: #333 }}</style><script>var tracking = "not text";</script></head><body>
<header><div class="logo"><img src="logo.png" alt="The Daily Gazette"></div>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li>
<li><a href="/subscribe">Subscribe</a></li></ul></nav></header>
<main><article><h1>{title}</h1>{body}</article></main>
<aside><h3>Most read</h3><ul><li><a href="/a">Council tax to rise</a></li></ul></aside>
<footer><p>&copy; 2019 The Daily Gazette. <a href="/privacy">Privacy</a></p></footer>
</body></html>"""


def div_template(title: str, paragraphs: tuple[str, ...]) -> str:
    """A 2024 re-render: <div> soup, other classes, inline tags, odd whitespace, entities."""
    body = "\n".join(
        '<div class="para">\n    '
        + p.replace("harbour", "<em>harbour</em>")
        .replace("Margaret Ellis", '<span class="name">Margaret&nbsp;Ellis</span>')
        .replace("pier, ", "pier,\t\t")
        + "\n</div>"
        for p in paragraphs
    )
    return f"""<html lang="en"><head>
<meta http-equiv="Content-Type" content="text/html; charset=utf-8"><title>{title}</title></head>
<body class="theme-2024">
<div id="cookie-banner">We use cookies to improve your experience. <button>Accept</button></div>
<div role="navigation"><a href="/">Gazette</a> <a href="/subscribe">Subscribe</a></div>
<div class="wrapper"><div class="sidebar"><h4>Sections</h4><a href="/weather">Weather</a></div>
<div class="content"><div class="story-body">
<h1 class="headline">
    {title}
</h1>
{body}
<div class="comments"><h3>2 comments</h3><p>Great news for the town!</p></div>
</div></div></div>
<div class="site-footer">Gazette Media Ltd 2024 &middot; Privacy &middot; Contact</div>
<noscript>Please enable JavaScript to read the Gazette</noscript>
</body></html>"""


def table_template(title: str, paragraphs: tuple[str, ...]) -> str:
    """A 2000s page: table layout, a menu cell, <br><br> instead of paragraphs, a footer div."""
    return f"""<html><head><title>{title}</title></head><body bgcolor="#ffffff">
<table width="100%"><tr><td class="menu"><a href="/">HOME</a><br><a href="/arc">Archive</a></td>
<td class="main"><h1>{title}</h1>
<p>{"<br><br>".join(paragraphs)}</p></td></tr></table>
<div class="footer">Printer friendly version &middot; Privacy</div>
</body></html>"""


TEMPLATES: tuple[Callable[[str, tuple[str, ...]], str], ...] = (
    semantic_template,
    div_template,
    table_template,
)


def _html(template: Callable[[str, tuple[str, ...]], str], *, edit: bool = False) -> bytes:
    paragraphs = PARAGRAPHS
    if edit:
        paragraphs = (PARAGRAPHS[0], PARAGRAPHS[1].replace("eighteen", "sixteen"), PARAGRAPHS[2])
    return template(TITLE, paragraphs).encode("utf-8")


def _page(text: str, *, head: str = "") -> str:
    """A minimal page holding ``text`` as one paragraph."""
    head = f"<head>{head}<title>t</title></head>"
    return f"<html>{head}<body><article><p>{text}</p></article></body></html>"


# --- the same article under different markup -------------------------------------------------


def test_same_article_in_three_templates_has_one_text_and_hash() -> None:
    results = [extract_text(_html(t), mime="text/html") for t in TEMPLATES]
    assert [r.error for r in results] == [None, None, None]
    assert {r.text for r in results} == {ARTICLE_TEXT}
    assert len({r.text_sha256 for r in results}) == 1
    for word in CHROME_WORDS:
        assert word not in ARTICLE_TEXT


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda t: t.__name__)
def test_one_word_edit_changes_the_hash(template: Callable[[str, tuple[str, ...]], str]) -> None:
    original = extract_text(_html(template), mime="text/html")
    edited = extract_text(_html(template, edit=True), mime="text/html")
    assert edited.text == ARTICLE_TEXT.replace("eighteen", "sixteen")
    assert edited.text_sha256 != original.text_sha256


def test_different_articles_have_different_hashes() -> None:
    other = ("A new bakery opened on Mill Lane.", "Queues formed before dawn.")
    first = extract_text(_html(semantic_template), mime="text/html")
    second = extract_text(semantic_template("Bakery opens", other).encode(), mime="text/html")
    assert (
        second.text == "Bakery opens A new bakery opened on Mill Lane. Queues formed before dawn."
    )
    assert first.text_sha256 != second.text_sha256


def test_text_sha256_is_the_sha256_of_the_utf8_text() -> None:
    result = extract_text(_html(table_template), mime="text/html")
    assert result.text is not None
    assert result.text_sha256 == hashlib.sha256(result.text.encode("utf-8")).hexdigest()


def test_case_and_punctuation_are_kept() -> None:
    upper = extract_text(_page("Pier EXTENSION approved!").encode(), mime="text/html")
    lower = extract_text(_page("pier extension approved").encode(), mime="text/html")
    assert upper.text == "Pier EXTENSION approved!"
    assert upper.text_sha256 != lower.text_sha256


def test_page_that_is_all_chrome_falls_back_to_its_full_text() -> None:
    page = (
        b"<html><body><nav><a href='/'>Home</a> <a href='/about'>About us</a></nav></body></html>"
    )
    assert extract_text(page, mime="text/html").text == "Home About us"


def test_extractor_names_resiliparse_and_its_version() -> None:
    assert EXTRACTOR.startswith("resiliparse 2.")
    assert {"text/html", "application/xhtml+xml", "text/plain"} <= TEXT_MIMES
    assert HTML_MIMES <= TEXT_MIMES


# --- charsets -----------------------------------------------------------------------------------

# (Python codec used to encode, label a page would declare, codec the result should name)
NON_UTF8 = [
    pytest.param(CHINESE, "gb2312", "gb2312", "gb18030", id="gb2312"),
    pytest.param(RUSSIAN, "cp1251", "windows-1251", "cp1251", id="windows-1251"),
]


@pytest.mark.parametrize(("text", "codec", "label", "expected"), NON_UTF8)
@pytest.mark.parametrize(
    "where",
    ["content-type", "meta charset", "meta http-equiv", "content-type and meta", "undeclared"],
)
def test_non_utf8_pages_decode(
    text: str, codec: str, label: str, expected: str, where: str
) -> None:
    head = {
        "meta charset": f'<meta charset="{label}">',
        "meta http-equiv": f'<meta http-equiv="Content-Type" content="text/html; charset={label}">',
        "content-type and meta": f'<meta charset="{label}">',
    }.get(where, "")
    content_type = (
        f"text/html; charset={label}" if where.startswith("content-type") else "text/html"
    )
    payload = _page(text, head=head).encode(codec)
    result = extract_text(payload, mime="text/html", content_type=content_type)
    assert result.error is None
    assert result.text == text
    assert result.charset == expected


@pytest.mark.parametrize(("text", "codec", "label", "expected"), NON_UTF8)
def test_wrong_declared_charset_that_cannot_decode_is_skipped(
    text: str, codec: str, label: str, expected: str
) -> None:
    payload = _page(text, head='<meta charset="utf-8">').encode(codec)
    result = extract_text(payload, mime="text/html", content_type="text/html; charset=UTF-8")
    assert (result.text, result.charset) == (text, expected)


def test_unknown_charset_label_falls_through_to_the_next_rung() -> None:
    payload = _page(RUSSIAN, head='<meta charset="windows-1251">').encode("cp1251")
    assert detect_charset(payload, "text/html; charset=x-klingon") == "cp1251"
    assert detect_charset(payload, "text/html; charset=utf-7") == "cp1251"


def test_http_charset_outranks_meta_when_both_decode() -> None:
    # koi8-r decodes any byte, so only precedence can tell the two labels apart.
    payload = _page(RUSSIAN, head='<meta charset="koi8-r">').encode("cp1251")
    assert detect_charset(payload, "text/html; charset=windows-1251") == "cp1251"
    assert detect_charset(payload, "text/html") == "koi8-r"


def test_meta_is_ignored_for_plain_text() -> None:
    payload = ('<meta charset="koi8-r"> ' + RUSSIAN).encode("cp1251")
    assert detect_charset(payload, "text/plain") == "cp1251"


def test_xml_declaration_names_the_charset_of_xhtml() -> None:
    payload = ('<?xml version="1.0" encoding="windows-1251"?>' + _page(RUSSIAN)).encode("cp1251")
    result = extract_text(payload, mime="application/xhtml+xml")
    assert (result.text, result.charset) == (RUSSIAN, "cp1251")


def test_utf8_bom_outranks_the_declared_charset() -> None:
    payload = b"\xef\xbb\xbf" + _page(RUSSIAN, head='<meta charset="koi8-r">').encode("utf-8")
    result = extract_text(payload, mime="text/html", content_type="text/html; charset=koi8-r")
    assert (result.text, result.charset) == (RUSSIAN, "utf-8")
    assert detect_charset(payload, "text/html; charset=koi8-r") == "utf-8"


def test_utf16_with_bom_is_text_not_binary() -> None:
    payload = _page(CHINESE).encode("utf-16")  # Python writes a BOM
    result = extract_text(payload, mime="text/html")
    assert (result.text, result.error) == (CHINESE, None)
    assert result.charset in {"utf-16-le", "utf-16-be"}


def test_stray_byte_in_a_utf8_page_keeps_utf8() -> None:
    payload = _page(CHINESE).encode("utf-8").replace("。".encode(), b"\xa0", 1)
    result = extract_text(payload, mime="text/html", content_type="text/html; charset=utf-8")
    assert result.charset == "utf-8"
    assert result.text == CHINESE.replace("。", "\ufffd", 1)


def test_multibyte_character_cut_off_at_the_end_is_dropped() -> None:
    payload = ("<p>" + CHINESE).encode("utf-8")[:-2]  # a capture truncated mid-character
    result = extract_text(payload, mime="text/html", content_type="text/html; charset=utf-8")
    assert result.charset == "utf-8"
    assert result.text == CHINESE[:-1]


# --- Content-Encoding ------------------------------------------------------------------------

ENCODED = _page("Compressed article text.").encode()


@pytest.mark.parametrize(
    ("encoding", "payload"),
    [
        ("gzip", gzip.compress(ENCODED)),
        ("x-gzip", gzip.compress(ENCODED)),
        ("GZIP", gzip.compress(ENCODED[:40]) + gzip.compress(ENCODED[40:])),  # two members
        ("deflate", zlib.compress(ENCODED)),
        ("deflate", zlib.compress(ENCODED)[2:-4]),  # raw deflate, as many servers send it
        ("br", brotli.compress(ENCODED)),
        ("deflate, gzip", gzip.compress(zlib.compress(ENCODED))),
        ("identity", ENCODED),
        ("", ENCODED),
        (None, ENCODED),
    ],
)
def test_content_encoding_is_undone(encoding: str | None, payload: bytes) -> None:
    assert decode_content(payload, encoding) == ENCODED
    result = extract_text(payload, mime="text/html", content_encoding=encoding)
    assert result.text == "Compressed article text."


def test_gzip_header_on_a_body_stored_decoded_is_ignored() -> None:
    assert decode_content(ENCODED, "gzip") == ENCODED


CORRUPT = [
    pytest.param("gzip", gzip.compress(ENCODED)[:12] + b"\xff" * 20, "gzip", id="gzip-garbled"),
    pytest.param("gzip", gzip.compress(ENCODED)[:-12], "truncated", id="gzip-truncated"),
    pytest.param("deflate", b"\x78\x9c" + b"\xff" * 20, "deflate", id="deflate-garbled"),
    pytest.param("br", b"\xff\xff\xff not brotli", "br", id="br-garbled"),
    pytest.param("compress", ENCODED, "unsupported", id="unsupported"),
]


@pytest.mark.parametrize(("encoding", "payload", "reason"), CORRUPT)
def test_corrupt_content_encoding_is_a_value_not_an_exception(
    encoding: str, payload: bytes, reason: str
) -> None:
    with pytest.raises(TextError, match=reason) as raised:
        decode_content(payload, encoding)
    assert isinstance(raised.value, ArchiveError) and isinstance(raised.value, ValueError)
    result = extract_text(payload, mime="text/html", content_encoding=encoding)
    assert (result.text, result.text_sha256) == (None, None)
    assert result.error is not None and reason in result.error and "\n" not in result.error


def test_zip_bomb_is_refused() -> None:
    bomb = gzip.compress(bytes(65 << 20))  # 64 KiB that would inflate to 65 MiB
    assert len(bomb) < 100_000
    with pytest.raises(TextError, match="more than 64 MiB"):
        decode_content(bomb, "gzip")
    assert extract_text(bomb, mime="text/html", content_encoding="gzip").error == (
        "gzip content-encoding decodes to more than 64 MiB"
    )


# --- media types and hopeless payloads ---------------------------------------------------------


def test_plain_text_is_taken_as_is_then_normalised() -> None:
    payload = "  Minutes of the meeting:\r\n\r\n\t<b>not a tag</b> &amp; café  \n".encode()
    result = extract_text(payload, mime="text/plain", content_type="text/plain; charset=utf-8")
    assert result.text == "Minutes of the meeting: <b>not a tag</b> &amp; café"


def test_plain_text_in_windows_1251() -> None:
    result = extract_text(RUSSIAN.encode("cp1251"), mime="text/plain")
    assert (result.text, result.charset) == (RUSSIAN, "cp1251")


def test_mime_parameters_and_case_are_ignored_and_content_type_stands_in() -> None:
    payload = _page("Body").encode()
    assert extract_text(payload, mime="Text/HTML; charset=utf-8").text == "Body"
    assert extract_text(payload, mime=None, content_type="application/xhtml+xml").text == "Body"
    assert extract_text(payload, mime=None).text == "Body"


def test_non_text_media_type_is_refused() -> None:
    result = extract_text(PNG, mime="image/png")
    assert result == ExtractedText(None, None, None, "not a text media type: image/png")


HOPELESS = [
    pytest.param(b"", "no text", id="empty"),
    pytest.param(b" \r\n\t \xc2\xa0 ", "no text", id="whitespace"),
    pytest.param(PNG, "binary", id="png"),
]
MARKUP_WITHOUT_TEXT = [
    pytest.param(b"<html><head><title>a title</title></head><body> </body></html>", id="title"),
    pytest.param(b"<body><script>var x = 1;</script><img src=a.png alt=pic></body>", id="script"),
]


@pytest.mark.parametrize("mime", ["text/html", "text/plain", None])
@pytest.mark.parametrize(("payload", "reason"), HOPELESS)
def test_nothing_to_extract_is_none_and_an_error(
    payload: bytes, reason: str, mime: str | None
) -> None:
    result = extract_text(payload, mime=mime)
    assert (result.text, result.text_sha256) == (None, None)
    assert result.error is not None and reason in result.error


@pytest.mark.parametrize("mime", ["text/html", "application/xhtml+xml", None])
@pytest.mark.parametrize("payload", MARKUP_WITHOUT_TEXT)
def test_markup_without_visible_text_has_no_text(payload: bytes, mime: str | None) -> None:
    result = extract_text(payload, mime=mime)
    assert (result.text, result.text_sha256, result.error) == (None, None, "no text")


# --- normalise_text -----------------------------------------------------------------------------


def test_normalise_text_folds_whitespace_and_invisibles_and_composes() -> None:
    raw = "\n\t Caf\u0065\u0301\u00a0au\u3000lait\u200b  re\u00adsumed \ufeff\r\nHere "
    assert normalise_text(raw) == "Café au lait resumed Here"
    assert normalise_text("Zero\u200bwidth") == "Zerowidth"
    assert normalise_text("می\u200cخواهم") == "می\u200cخواهم"  # ZWNJ is Persian orthography


@given(st.text())
def test_normalise_text_is_idempotent_and_folded(text: str) -> None:
    once = normalise_text(text)
    assert normalise_text(once) == once
    assert "  " not in once
    assert once == once.strip()
    assert not any(ch.isspace() and ch != " " for ch in once)


# --- never raises -------------------------------------------------------------------------------

FRAGMENTS = [
    b"<html>", b"<p>", b"</p>", b"<div class='nav'>", b"</div>", b"<article>", b"<br>",
    b"<meta charset=gb2312>", b"<meta charset='utf-16'>", b"<?xml encoding='koi8-r'?>",
    b"<script>", b"<!--", b"&amp;", b"&#xD800;", b"\xff\xfe", b"\xef\xbb\xbf", b"\x00",
    b"\xe4\xb8", b"\xd0\xbf", b"word ", b"\x1f\x8b\x08", b"\xc3",
]  # fmt: skip
MIMES = st.one_of(st.none(), st.sampled_from([*sorted(TEXT_MIMES), "image/png", ""]), st.text())


@settings(deadline=None)
@given(
    payload=st.one_of(st.binary(max_size=2048), st.lists(st.sampled_from(FRAGMENTS)).map(b"".join)),
    mime=MIMES,
    content_type=st.one_of(
        st.none(), st.text(), st.builds("text/html; charset={}".format, st.text())
    ),
    content_encoding=st.one_of(
        st.none(), st.sampled_from(["gzip", "deflate", "br", "identity", "zstd", "gzip, br"])
    ),
)
def test_extract_text_never_raises(
    payload: bytes, mime: str | None, content_type: str | None, content_encoding: str | None
) -> None:
    result = extract_text(
        payload, mime=mime, content_type=content_type, content_encoding=content_encoding
    )
    assert (result.text is None) == (result.error is not None)
    if result.text is not None:
        assert result.text == normalise_text(result.text) != ""
        assert result.text_sha256 == hashlib.sha256(result.text.encode()).hexdigest()
    else:
        assert result.text_sha256 is None


# --- real pages ---------------------------------------------------------------------------------

COMMON_CRAWL = "chatnoir-eu-chatnoir-resiliparse/tests/data/warcfile.warc.gz"


def _html_responses(path: Path) -> list[tuple[str, str | None, bytes]]:
    """(URI, Content-Type, payload) of each HTML response; warcio undoes the Content-Encoding."""
    found = []
    with path.open("rb") as stream:
        for record in ArchiveIterator(stream):
            if record.rec_type != "response" or record.http_headers is None:
                continue
            content_type = record.http_headers.get_header("Content-Type")
            if (content_type or "").split(";")[0].strip().lower() in HTML_MIMES:
                uri = record.rec_headers.get_header("WARC-Target-URI")
                found.append((uri, content_type, record.content_stream().read()))
    return found


@pytest.mark.realdata
def test_real_common_crawl_pages_give_text(shared_warcs: Path) -> None:
    pages = _html_responses(shared_warcs / COMMON_CRAWL)
    assert len(pages) == 16
    results = {
        uri: extract_text(payload, mime="text/html", content_type=content_type)
        for uri, content_type, payload in pages
    }
    with_text = [uri for uri, result in results.items() if result.text]
    # Measured with resiliparse 2.0.1: every page, including spam and error pages, has text.
    assert len(with_text) == 16, {uri: r.error for uri, r in results.items() if not r.text}


@pytest.mark.realdata
def test_real_non_utf8_pages_decode_cleanly(shared_warcs: Path) -> None:
    def is_utf8(payload: bytes) -> bool:
        try:
            payload.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True

    pages = [page for page in _html_responses(shared_warcs / COMMON_CRAWL) if not is_utf8(page[2])]
    assert len(pages) == 9  # gb2312/gbk, windows-1251 and iso-8859-1 pages (SOURCES.md)
    charsets = set()
    for uri, content_type, payload in pages:
        result = extract_text(payload, mime="text/html", content_type=content_type)
        assert result.text, (uri, result.error)
        assert result.text.count("\ufffd") < len(result.text) / 100, uri
        charsets.add(result.charset)
    assert charsets == {"gb18030", "cp1251", "cp1252"}
