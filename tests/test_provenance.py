"""Provenance verdicts, labels and evidence in lookups, relabel and the CDXJ export.

Real WARC bytes (tests/warcbuilder.py), real catalogs on both backends, the CLI through
CliRunner. One small web covers every rung of the ladder, a post capture, unverified
captures (a claim, a tampered record) and a URL the catalog does not hold.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import event, select, update
from warcbuilder import Rec, exchange, response, revisit, sha1_b32, warcinfo, write_warc

from archive.catalog import Catalog, catalog_cutoff, first_seen, relabel_catalog
from archive.cdx import cdxj_lines
from archive.cutoffs import parse_cutoff
from archive.errors import ArchiveError
from archive.ingest import ingest
from archive.lookup import (
    find_records,
    lookup_as_of,
    lookup_file,
    lookup_payload,
    lookup_text,
    lookup_url,
    text_sha256,
)
from archive.models import Record, WarcFile
from archive.provenance import (
    CutoffMismatch,
    provenance_of_file,
    provenance_of_payload,
    provenance_of_text,
    provenance_of_url,
)
from archive.text import extract_text
from cli.main import cli

CHATGPT = "chatgpt (2022-11-30T00:00:00Z)"


def page(title: str, paragraph: str, *, restyled: bool = False) -> bytes:
    """An HTML page; ``restyled`` changes the markup, not the text."""
    if restyled:
        return (
            f"<!DOCTYPE html><html><head><title>{title}</title><style>p{{color:red}}</style>"
            f'</head><body><main class="v2"><article><h1>{title}</h1>\n<p>{paragraph}</p>'
            "</article></main></body></html>"
        ).encode()
    return (
        f"<html><head><title>{title}</title></head><body><article><h1>{title}</h1>"
        f"<p>{paragraph}</p></article></body></html>"
    ).encode()


STORY = page("River festival", "More than four thousand people lined the banks on Saturday.")
ESSAY = page("On bread", "A starter is a small garden that you feed every morning.")
ESSAY_RESTYLED = page(
    "On bread", "A starter is a small garden that you feed every morning.", restyled=True
)
OFFER = page("Offer", "Everything must go by Friday, the shop is closing for good.")
FRESH = page("Heat pumps", "The first winter with a heat pump was quieter than expected.")
SPOILED = page("Council", "The council met on Tuesday about the new road.")
NOTES = page("Notes", "Tomatoes went in late this year because of the cold spring.")

ORIGINAL = response("http://news.test/story", STORY, "2019-05-04T10:00:00Z")
OLD_ESSAY = response("http://blog.test/bread", ESSAY, "2020-02-02T00:00:00Z")
TAMPERED = response(
    "http://broken.test/", SPOILED, "2019-01-01T00:00:00Z", payload_digest=sha1_b32(b"not it")
)
COARSE = response("http://coarse.test/notes", NOTES, "2016-01")  # month precision: no evidence
NOTES_2021 = response("http://garden.test/notes", NOTES, "2021-03-03T03:03:03Z")
MIRROR = response("http://mirror.test/copy", STORY, "2024-03-01T00:00:00Z")
ALIAS = revisit(
    "http://alias.test/story",
    "2024-04-01T00:00:00Z",
    refers_to=ORIGINAL.id,
    refers_to_target_uri="http://news.test/story",
    refers_to_date="2019-05-04T10:00:00Z",
    payload_digest=ORIGINAL.get("WARC-Payload-Digest"),
)
NEW_ESSAY = response("http://blog.test/bread-v2", ESSAY_RESTYLED, "2024-05-05T00:00:00Z")
CLAIM = response(
    "http://claims.test/",
    OFFER,
    "2024-06-01T00:00:00Z",
    last_modified="Tue, 15 Jan 2019 10:00:00 GMT",
)
NEW = response("http://new.test/", FRESH, "2024-07-01T00:00:00Z")
DANGLING = revisit(
    "http://gone.test/",
    "2024-07-02T00:00:00Z",
    refers_to="<urn:uuid:00000000-0000-0000-0000-000000000000>",
    refers_to_target_uri="http://gone.test/",
    refers_to_date="2018-01-01T00:00:00Z",
    payload_digest=sha1_b32(b"nowhere"),
)

EARLY_FILE = [
    warcinfo({"software": "tests/early"}, "2019-01-01T00:00:00Z"),
    *exchange(ORIGINAL),
    OLD_ESSAY,
    TAMPERED,
    COARSE,
    NOTES_2021,
]
LATE_FILE = [MIRROR, ALIAS, NEW_ESSAY, CLAIM, NEW, DANGLING]


@dataclass(frozen=True)
class World:
    catalog: Catalog
    db: str
    early: Path
    late: Path
    ids: dict[str, int]  # fixture name -> catalog id

    def file_of(self, name: str) -> Path:
        return self.early if name in EARLY_NAMES else self.late


NAMES = {
    "ORIGINAL": ORIGINAL,
    "OLD_ESSAY": OLD_ESSAY,
    "TAMPERED": TAMPERED,
    "COARSE": COARSE,
    "NOTES_2021": NOTES_2021,
    "MIRROR": MIRROR,
    "ALIAS": ALIAS,
    "NEW_ESSAY": NEW_ESSAY,
    "CLAIM": CLAIM,
    "NEW": NEW,
    "DANGLING": DANGLING,
}
EARLY_NAMES = {"ORIGINAL", "OLD_ESSAY", "TAMPERED", "COARSE", "NOTES_2021"}


def set_texts(catalog: Catalog, records: list[Rec]) -> None:
    """Fill text_sha256 as the text stage does (same extractor), then relabel."""
    with catalog.engine.begin() as connection:
        for rec in records:
            body = {ORIGINAL.id: STORY, OLD_ESSAY.id: ESSAY, NEW_ESSAY.id: ESSAY_RESTYLED}[rec.id]
            digest = extract_text(body, mime="text/html").text_sha256
            assert digest is not None
            connection.execute(
                update(Record)
                .where(Record.warc_record_id == rec.id.strip("<>"))
                .values(text_sha256=digest)
            )
    relabel_catalog(catalog, catalog_cutoff(catalog))


@pytest.fixture
def world(catalog: Catalog, db_url: str, tmp_path: Path) -> World:
    early = write_warc(tmp_path / "early.warc.gz", EARLY_FILE)
    late = write_warc(tmp_path / "late.warc", LATE_FILE)
    reports = list(ingest(catalog, [str(early), str(late)]))
    assert [r.status for r in reports] == ["partial", "complete"]  # COARSE is reported
    set_texts(catalog, [ORIGINAL, OLD_ESSAY, NEW_ESSAY])
    with catalog.engine.connect() as connection:
        by_warc_id = dict(connection.execute(select(Record.warc_record_id, Record.id)).all())
    ids = {name: by_warc_id[rec.id.strip("<>")] for name, rec in NAMES.items()}
    return World(catalog, db_url, early, late, ids)


def date_of(name: str) -> str:
    value = NAMES[name].get("WARC-Date")
    assert value is not None
    return value


# -- verdicts --------------------------------------------------------------------------------------

URL_CASES = [
    # url, answer, evidence kind, the record the evidence rests on, the capture it labels
    ("http://news.test/story", "yes", "captured", "ORIGINAL", "ORIGINAL"),
    ("https://mirror.test/copy", "yes", "same-payload", "ORIGINAL", "MIRROR"),
    ("http://alias.test/story", "yes", "revisit", "ORIGINAL", "ALIAS"),
    ("http://blog.test/bread-v2", "yes", "same-text", "OLD_ESSAY", "NEW_ESSAY"),
    ("http://coarse.test/notes", "yes", "same-payload", "NOTES_2021", "COARSE"),
    ("http://claims.test/", "unverified", "claimed", "CLAIM", "CLAIM"),
    ("http://new.test/", "no", None, None, None),
    ("http://broken.test/", "unverified", None, None, None),
    ("http://gone.test/", "unverified", None, None, None),
    ("http://nowhere.test/", "unknown", None, None, None),
]


@pytest.mark.parametrize(("url", "answer", "kind", "basis", "labelled"), URL_CASES)
def test_url_verdicts(
    world: World,
    url: str,
    answer: str,
    kind: str | None,
    basis: str | None,
    labelled: str | None,
) -> None:
    verdict = provenance_of_url(world.catalog, url)
    data = verdict.to_dict()
    json.dumps(data)  # serialisable as is
    assert (verdict.answer, data["answer"]) == (answer, answer)
    assert data["summary"].startswith(f"{answer}: ")
    assert data["cutoff"] == {"name": "chatgpt", "instant": "2022-11-30T00:00:00Z"}
    assert data["query"]["kind"] == "url" and data["query"]["value"] == url
    if kind is None:
        assert data["evidence"] is None
    else:
        assert basis is not None and labelled is not None
        evidence = data["evidence"]
        assert evidence["kind"] == kind
        assert evidence["id"] == world.ids[basis]
        assert evidence["capture_time"] == date_of(basis)
        assert evidence["warc_file"] == str(world.file_of(basis))
        assert evidence["url"] == NAMES[basis].get("WARC-Target-URI")
        assert evidence["capture"]["id"] == world.ids[labelled]
        assert evidence["capture"]["evidence"]["id"] == world.ids[basis]
        assert data["recheck"]["id"] == world.ids[basis]
        assert data["recheck"]["commands"] == [
            f"archivist cat {world.ids[basis]}",
            f"archivist show {world.ids[basis]}",
        ]
    if answer == "unknown":
        assert (data["captures"], data["earliest"], data["recheck"]) == (0, None, None)
        assert data["summary"] == "unknown: not in the catalog"
    else:
        assert data["captures"] == 1
        assert data["earliest"]["url"].endswith(url.split("://", 1)[1])


def test_claims_are_reported_with_their_date_and_never_count(world: World) -> None:
    data = provenance_of_url(world.catalog, "http://claims.test/").to_dict()
    assert data["answer"] == "unverified"
    assert data["by_label"] == {"unverified": 1}
    assert data["evidence"]["claimed_date"] == "2019-01-15T10:00:00Z"
    assert data["evidence"]["claimed_by"] == "Last-Modified"


def test_the_strongest_evidence_wins_over_the_earliest(world: World) -> None:
    # The payload STORY: captured in 2019 (rung 1) and mirrored in 2024 (rung 2).
    verdict = provenance_of_payload(world.catalog, hashlib.sha256(STORY).hexdigest())
    data = verdict.to_dict()
    assert data["answer"] == "yes" and data["captures"] == 2
    assert data["by_label"] == {"pre": 2}
    assert data["evidence"]["kind"] == "captured"
    assert data["evidence"]["id"] == world.ids["ORIGINAL"]
    assert data["first_seen"]["id"] == world.ids["ORIGINAL"]
    assert data["evidence"]["payload_sha256"] == hashlib.sha256(STORY).hexdigest()


def test_payload_file_and_text_verdicts(world: World, tmp_path: Path) -> None:
    fresh = tmp_path / "fresh.html"
    fresh.write_bytes(FRESH)
    by_file = provenance_of_file(world.catalog, fresh).to_dict()
    assert by_file["answer"] == "no" and by_file["query"]["kind"] == "file"
    assert by_file["query"]["key"] == hashlib.sha256(FRESH).hexdigest()
    assert by_file["first_seen"]["id"] == world.ids["NEW"]  # verified, only not before
    unknown = tmp_path / "unknown.html"
    unknown.write_bytes(b"never on the web")
    assert provenance_of_file(world.catalog, unknown).answer == "unknown"
    tampered = provenance_of_payload(world.catalog, hashlib.sha256(SPOILED).hexdigest())
    assert tampered.answer == "unverified" and tampered.first_seen is None

    text = extract_text(ESSAY_RESTYLED, mime="text/html").text
    assert text is not None
    # Whitespace is normalised away: a copy pasted from a terminal still matches.
    by_text = provenance_of_text(world.catalog, "  " + text.replace(" ", "\n  ") + "\n").to_dict()
    assert by_text["answer"] == "yes" and by_text["captures"] == 2
    assert by_text["evidence"]["kind"] == "captured"
    assert by_text["evidence"]["id"] == world.ids["OLD_ESSAY"]
    assert "first_seen" not in by_text
    assert provenance_of_text(world.catalog, "Nobody wrote this.").answer == "unknown"
    with pytest.raises(ArchiveError, match="no text"):
        provenance_of_text(world.catalog, " \n\t ")


def test_verdicts_follow_relabel_and_refuse_another_cutoff(world: World) -> None:
    gpt2 = parse_cutoff("gpt2")
    with pytest.raises(CutoffMismatch, match="relabel --cutoff gpt2"):
        provenance_of_url(world.catalog, "http://news.test/story", cutoff=gpt2)
    relabel_catalog(world.catalog, gpt2)
    verdict = provenance_of_url(world.catalog, "http://news.test/story", cutoff=gpt2)
    assert verdict.answer == "no"
    assert verdict.summary == "no: no evidence it was on the web before gpt2 (2019-02-14T00:00:00Z)"
    assert provenance_of_url(world.catalog, "http://mirror.test/copy").answer == "no"


# -- captures carry label and evidence -------------------------------------------------------------


def truth(catalog: Catalog) -> dict[int, tuple[Any, ...]]:
    """id -> (label, kind, evidence id, evidence capture time, evidence file) straight from SQL."""
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            select(
                Record.id,
                Record.label,
                Record.evidence_kind,
                Record.evidence_record_id,
                Record.capture_time,
                WarcFile.location,
            ).join(WarcFile, Record.file_id == WarcFile.id)
        ).all()
    by_id = {r.id: r for r in rows}
    out = {}
    for r in rows:
        basis = by_id.get(r.evidence_record_id) if r.evidence_record_id else None
        out[r.id] = (
            r.label,
            r.evidence_kind or "none",
            basis.id if basis else None,
            basis.capture_time.strftime("%Y-%m-%dT%H:%M:%SZ") if basis else None,
            basis.location if basis else None,
        )
    return out


def assert_labelled(catalog: Catalog, captures: list[dict[str, Any]]) -> None:
    expected = truth(catalog)
    assert captures
    for capture in captures:
        evidence = capture["evidence"]
        assert set(evidence) == {"kind", "id", "warc_file", "offset", "capture_time"}
        assert (
            capture["label"],
            evidence["kind"],
            evidence["id"],
            evidence["capture_time"],
            evidence["warc_file"],
        ) == expected[capture["id"]]


def test_every_lookup_gives_label_and_evidence(world: World) -> None:
    every = [
        c.to_dict()
        for url in ("http://test/",)
        for c in lookup_url(world.catalog, url, match="domain", limit=None)
    ]
    assert len(every) == 11
    assert_labelled(world.catalog, every)
    assert {c["label"] for c in every} == {"pre", "post", "unverified"}
    assert {c["evidence"]["kind"] for c in every} == {
        "captured",
        "same-payload",
        "revisit",
        "same-text",
        "claimed",
        "none",
    }
    for name in NAMES:
        (capture,) = find_records(world.catalog, str(world.ids[name]))
        assert_labelled(world.catalog, [capture.to_dict()])


def test_evidence_records_are_fetched_in_one_query(world: World) -> None:
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(world.catalog.engine, "before_cursor_execute", count)
    try:
        captures = lookup_url(world.catalog, "http://test/", match="domain")
    finally:
        event.remove(world.catalog.engine, "before_cursor_execute", count)
    assert len({c.row.record.evidence_record_id for c in captures} - {None}) > 3
    # One query for the captures, one for all the records their evidence rests on.
    assert len(statements) == 2


def test_first_seen_is_the_earliest_verified_capture(world: World) -> None:
    digest = hashlib.sha256(NOTES).hexdigest()
    first = first_seen(world.catalog, digest)
    assert first is not None and first.record.id == world.ids["NOTES_2021"]
    captures = lookup_payload(world.catalog, digest)
    # The 2016 capture comes first but has only month precision: listed, not first seen.
    assert [(c.row.record.id, c.first_seen) for c in captures] == [
        (world.ids["COARSE"], False),
        (world.ids["NOTES_2021"], True),
    ]
    assert first_seen(world.catalog, hashlib.sha256(SPOILED).hexdigest()) is None
    assert first_seen(world.catalog, "0" * 64) is None


def test_as_of_is_the_latest_capture_at_or_before(world: World) -> None:
    def as_of(when: str) -> list[int]:
        instant = datetime.fromisoformat(when.replace("Z", "+00:00"))
        return [c.row.record.id for c in lookup_as_of(world.catalog, "http://news.test/", instant)]

    ingest_more(world, [response("http://news.test/", b"front", "2020-01-01T00:00:00Z")])
    ingest_more(world, [response("http://news.test/", b"front 2", "2021-01-01T00:00:00Z")])
    first, second = [c.row.record.id for c in lookup_url(world.catalog, "http://news.test/")]
    assert as_of("2019-12-31T23:59:59Z") == []
    assert as_of("2020-01-01T00:00:00Z") == [first]  # inclusive
    assert as_of("2020-12-31T23:59:59Z") == [first]
    assert as_of("2021-01-01T00:00:00Z") == [second]
    assert as_of("2099-01-01T00:00:00Z") == [second]
    domain = lookup_as_of(
        world.catalog, "http://test/", datetime(2024, 4, 1, tzinfo=UTC), match="domain"
    )
    assert [c.row.record.id for c in domain] == [world.ids["ALIAS"]]


def ingest_more(world: World, records: list[Rec]) -> None:
    path = world.early.parent / f"more-{len(list(world.early.parent.iterdir()))}.warc"
    write_warc(path, records)
    assert [r.status for r in ingest(world.catalog, [str(path)])] == ["complete"]


def test_text_lookup_earliest_first(world: World, tmp_path: Path) -> None:
    text = extract_text(ESSAY, mime="text/html").text
    assert text is not None
    got = lookup_text(world.catalog, text)
    assert [c.row.record.id for c in got] == [world.ids["OLD_ESSAY"], world.ids["NEW_ESSAY"]]
    assert text_sha256(text) == got[0].row.record.text_sha256
    assert lookup_text(world.catalog, "not a text in the catalog") == []


def test_file_lookup_marks_first_seen(world: World, tmp_path: Path) -> None:
    path = tmp_path / "story.html"
    path.write_bytes(STORY)
    got = [c.to_dict() for c in lookup_file(world.catalog, path)]
    assert [(c["id"], c["first_seen"]) for c in got] == [
        (world.ids["ORIGINAL"], True),
        (world.ids["MIRROR"], False),
    ]


# -- the CLI ---------------------------------------------------------------------------------------


def run(runner: CliRunner, world: World, *args: str) -> Result:
    return runner.invoke(cli, ["--db", world.db, *args])


def one_line_error(result: Result, *words: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for word in words:
        assert word in lines[0]


def test_provenance_command_table(runner: CliRunner, world: World) -> None:
    result = run(runner, world, "provenance", "http://mirror.test/copy")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    original = world.ids["ORIGINAL"]
    assert lines[0] == f"yes: on the web before {CHATGPT}"
    assert lines[1] == (
        f"evidence   same-payload: record #{original}, captured 2019-05-04T10:00:00Z, digests ok"
    )
    assert lines[2].strip() == "http://news.test/story"
    assert lines[3].strip().startswith(f"{world.early} @ ")
    assert f"(the evidence of capture #{world.ids['MIRROR']}" in lines[4]
    sha = hashlib.sha256(STORY).hexdigest()
    assert f"re-check   archivist cat {original}   (its SHA-256 should be {sha})" in lines
    assert lines[-1].strip() == f"archivist show {original}"


@pytest.mark.parametrize(
    ("url", "answer"),
    [
        ("http://news.test/story", "yes"),
        ("http://new.test/", "no"),
        ("http://claims.test/", "unverified"),
        ("http://nowhere.test/", "unknown"),
    ],
)
def test_provenance_exits_0_whatever_the_answer(
    runner: CliRunner, world: World, url: str, answer: str
) -> None:
    result = run(runner, world, "provenance", url)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{answer}: ")
    as_json = run(runner, world, "provenance", url, "--json")
    (data,) = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert data["answer"] == answer
    assert data["cutoff"] == {"name": "chatgpt", "instant": "2022-11-30T00:00:00Z"}


def test_provenance_by_hash_file_and_text(runner: CliRunner, world: World, tmp_path: Path) -> None:
    sha = hashlib.sha256(ESSAY).hexdigest()
    by_hash = json.loads(run(runner, world, "provenance", "--sha256", sha, "--json").stdout)
    assert by_hash["evidence"]["id"] == world.ids["OLD_ESSAY"]
    path = tmp_path / "essay.html"
    path.write_bytes(ESSAY)
    by_file = json.loads(run(runner, world, "provenance", "--file", str(path), "--json").stdout)
    assert by_file["evidence"] == by_hash["evidence"]
    text = extract_text(ESSAY, mime="text/html").text
    assert text is not None
    by_text = json.loads(run(runner, world, "provenance", "--text", text, "--json").stdout)
    assert by_text["answer"] == "yes" and by_text["captures"] == 2
    text_file = tmp_path / "essay.txt"
    text_file.write_text(text + "\n", encoding="utf-8")
    from_file = run(runner, world, "provenance", "--text-file", str(text_file), "--json")
    assert json.loads(from_file.stdout) == by_text


@pytest.mark.parametrize(
    "args",
    [[], ["http://a.test/", "--sha256", "0" * 64], ["--text", "a", "--file", "x"]],
)
def test_provenance_usage_errors(runner: CliRunner, world: World, args: list[str]) -> None:
    result = run(runner, world, "provenance", *args)
    assert result.exit_code == 2 and "Traceback" not in result.output


def test_provenance_errors_are_one_line(runner: CliRunner, world: World, tmp_path: Path) -> None:
    one_line_error(run(runner, world, "provenance", "--sha256", "abc"), "not a SHA-256")
    one_line_error(run(runner, world, "provenance", "--file", str(tmp_path / "no")), "cannot read")
    one_line_error(run(runner, world, "provenance", "--text", "   "), "no text")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    one_line_error(run(runner, world, "provenance", "--text-file", str(bad)), "not UTF-8")
    one_line_error(
        run(runner, world, "provenance", "http://news.test/story", "--cutoff", "gpt3"),
        "labelled for chatgpt",
        "archivist relabel --cutoff gpt3",
    )


@pytest.mark.parametrize("command", [["relabel"], ["provenance", "http://news.test/story"]])
@pytest.mark.parametrize("value", ["bogus", "2022", "2022-13-01"])
def test_a_bad_cutoff_is_one_line(
    runner: CliRunner, world: World, command: list[str], value: str
) -> None:
    one_line_error(run(runner, world, *command, "--cutoff", value), "not a cutoff", repr(value))
    from_env = CliRunner(env={"ARCHIVIST_CUTOFF": value}).invoke(cli, ["--db", world.db, *command])
    one_line_error(from_env, "not a cutoff")


def test_relabel_then_lookups_show_the_new_labels(runner: CliRunner, world: World) -> None:
    result = run(runner, world, "relabel", "--cutoff", "2020-01-01", "--json")
    assert result.exit_code == 0, result.output
    (data,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert data["cutoff"] == {"name": "2020-01-01T00:00:00Z", "instant": "2020-01-01T00:00:00Z"}
    assert data["captures"] == 11
    assert list(data["by_label"]) == ["pre", "post", "unverified"]
    assert sum(data["by_label"].values()) == 11
    assert list(data["by_evidence"]) == [
        "captured",
        "same-payload",
        "revisit",
        "same-text",
        "claimed",
        "none",
    ]
    # 2020-02-02 is after the new cutoff: the essay and its restyled copy are post now.
    lookup = run(runner, world, "lookup", "http://blog.test/", "--match", "host", "--json")
    assert [(c["url"], c["label"]) for c in map(json.loads, lookup.stdout.splitlines())] == [
        ("http://blog.test/bread", "post"),
        ("http://blog.test/bread-v2", "post"),
    ]
    table = run(runner, world, "lookup", "http://news.test/story")
    assert table.stderr == "labels for cutoff 2020-01-01T00:00:00Z\n"
    assert table.stdout.splitlines()[1].split()[6:8] == [
        "pre",
        f"captured:#{world.ids['ORIGINAL']}",
    ]
    assert json.loads(run(runner, world, "stats", "--json").stdout)["cutoff"] == data["cutoff"]
    text = run(runner, world, "relabel", "--cutoff", "chatgpt")
    assert text.stdout.splitlines()[0] == f"relabelled 11 captures for cutoff {CHATGPT}"
    assert text.stdout.splitlines()[1].startswith("by label     pre: ")
    env = CliRunner(env={"ARCHIVIST_CUTOFF": "gpt2"}).invoke(cli, ["--db", world.db, "relabel"])
    assert env.exit_code == 0 and "gpt2 (2019-02-14T00:00:00Z)" in env.stdout


def test_lookup_by_text_and_as_of_on_the_command_line(
    runner: CliRunner, world: World, tmp_path: Path
) -> None:
    text = extract_text(ESSAY, mime="text/html").text
    assert text is not None
    result = run(runner, world, "lookup", "--text", text, "--json")
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == [
        world.ids["OLD_ESSAY"],
        world.ids["NEW_ESSAY"],
    ]
    path = tmp_path / "essay.txt"
    path.write_text(text, encoding="utf-8")
    assert run(runner, world, "lookup", "--text-file", str(path), "--json").stdout == result.stdout
    as_of = run(
        runner, world, "lookup", "http://test/", "--match", "domain", "--as-of", "2024-04-01"
    )
    assert as_of.exit_code == 0, as_of.output
    (row,) = as_of.stdout.splitlines()[1:]
    assert row.split()[:3] == [str(world.ids["ALIAS"]), "2024-04-01T00:00:00Z", "revisit"]
    for bad in (["--as-of", "2024"], ["--as-of", "2024", "--from", "2019"]):
        assert run(runner, world, "lookup", "--text", "x", *bad).exit_code == 2
    assert run(runner, world, "lookup", "http://a.test/", "--as-of", "soon").exit_code == 2


def test_lookup_by_hash_marks_first_seen(runner: CliRunner, world: World) -> None:
    sha = hashlib.sha256(NOTES).hexdigest()
    result = run(runner, world, "lookup", "--sha256", sha)
    assert result.exit_code == 0
    assert f"first seen: #{world.ids['NOTES_2021']} 2021-03-03T03:03:03Z" in result.stderr
    as_json = run(runner, world, "lookup", "--sha256", sha, "--json")
    marks = [(c["id"], c["first_seen"]) for c in map(json.loads, as_json.stdout.splitlines())]
    assert marks == [(world.ids["COARSE"], False), (world.ids["NOTES_2021"], True)]


def test_show_prints_label_and_evidence(runner: CliRunner, world: World) -> None:
    result = run(runner, world, "show", str(world.ids["NEW_ESSAY"]))
    assert result.exit_code == 0
    assert "\nlabel " in result.stdout
    line = next(x for x in result.stdout.splitlines() if x.startswith("evidence "))
    assert line.split(None, 1)[1] == (
        f"same-text:#{world.ids['OLD_ESSAY']} (2020-02-02T00:00:00Z, {world.early} @ "
        f"{find_records(world.catalog, OLD_ESSAY.id)[0].row.record.offset})"
    )
    details = json.loads(run(runner, world, "show", ALIAS.id, "--json").stdout)
    assert details["label"] == "pre"
    assert details["evidence"]["kind"] == "revisit"
    assert details["original_record_id"] == world.ids["ORIGINAL"]


def test_stats_count_labels_evidence_and_dangling_revisits(runner: CliRunner, world: World) -> None:
    data = json.loads(run(runner, world, "stats", "--json").stdout)
    assert data["captures_by_label"] == {"pre": 7, "post": 1, "unverified": 3}
    assert data["captures_by_evidence"] == {
        "captured": 3,
        "same-payload": 2,
        "revisit": 1,
        "same-text": 1,
        "claimed": 1,
        "none": 3,
    }
    assert data["dangling_revisits"] == 1
    assert data["cutoff"] == {"name": "chatgpt", "instant": "2022-11-30T00:00:00Z"}
    text = run(runner, world, "stats").stdout
    assert "captures by label    pre: 7, post: 1, unverified: 3\n" in text
    assert "dangling revisits    1\n" in text
    assert f"labels for cutoff    {CHATGPT}\n" in text


# -- CDXJ ------------------------------------------------------------------------------------------


def parse_cdxj(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    out = []
    for line in text.splitlines():
        urlkey, timestamp, block = line.split(" ", 2)
        out.append((urlkey, timestamp, json.loads(block)))
    return out


def test_cdx_lines_parse_are_sorted_and_match_the_catalog(runner: CliRunner, world: World) -> None:
    result = run(runner, world, "cdx")
    assert result.exit_code == 0, result.output
    lines = parse_cdxj(result.stdout)
    assert result.stdout.splitlines() == sorted(result.stdout.splitlines())
    assert [(k, t) for k, t, _ in lines] == sorted((k, t) for k, t, _ in lines)
    # Every dated capture with a SURT key; COARSE has a capture time (2016-01-01) too.
    assert len(lines) == 11
    with world.catalog.engine.connect() as connection:
        rows = {
            r.id: r
            for r in connection.execute(
                select(Record, WarcFile.location).join(WarcFile, Record.file_id == WarcFile.id)
            )
        }
    for urlkey, timestamp, fields in lines:
        row = rows[fields["record_id"]]
        assert urlkey == row.surt
        assert timestamp == row.capture_time.strftime("%Y%m%d%H%M%S") and len(timestamp) == 14
        assert fields["url"] == row.target_uri
        assert fields["filename"] == row.location
        assert (fields["offset"], fields["length"]) == (str(row.offset), str(row.length))
        assert fields["label"] == row.label
        assert fields["evidence"] == (row.evidence_kind or "none")
        assert fields["status"] == str(row.http_status)
        assert fields.get("payload_sha256") == row.payload_sha256
        if row.record_type == "revisit":
            assert fields["mime"] == "warc/revisit"
            assert fields["digest"] == row.payload_digest
        else:
            assert fields["mime"] == "text/html"
            assert fields["digest"] == row.payload_digest  # as the crawler wrote it
        assert list(fields)[:7] == [
            "url",
            "mime",
            "status",
            "digest",
            "length",
            "offset",
            "filename",
        ]
    # The record's bytes are where the line says.
    key, _, fields = next(x for x in lines if x[2]["record_id"] == world.ids["ORIGINAL"])
    assert key == "test,news)/story"
    data = Path(fields["filename"]).read_bytes()
    start, length = int(fields["offset"]), int(fields["length"])
    assert gzip.decompress(data[start : start + length]).startswith(b"WARC/1.0\r\n")


def test_cdx_label_filter_and_output_file(runner: CliRunner, world: World, tmp_path: Path) -> None:
    pre = parse_cdxj(run(runner, world, "cdx", "--label", "pre").stdout)
    assert len(pre) == 7 and {f["label"] for _, _, f in pre} == {"pre"}
    both = parse_cdxj(run(runner, world, "cdx", "--label", "post", "--label", "unverified").stdout)
    assert {f["label"] for _, _, f in both} == {"post", "unverified"} and len(both) == 4
    out = tmp_path / "index.cdxj"
    result = run(runner, world, "cdx", str(out))
    assert result.exit_code == 0 and result.stdout == ""
    assert result.stderr == f"11 captures written to {out}\n"
    assert out.read_text(encoding="utf-8") == run(runner, world, "cdx", "-").stdout
    assert run(runner, world, "cdx", "--label", "maybe").exit_code == 2


def test_cdx_digest_falls_back_to_our_sha256(world: World, tmp_path: Path) -> None:
    ingest_more(
        world,
        [response("http://plain.test/", b"no digest", "2019-09-09T09:09:09Z", payload_digest=None)],
    )
    (line,) = [x for x in cdxj_lines(world.catalog) if x.startswith("test,plain)/")]
    fields = json.loads(line.split(" ", 2)[2])
    assert fields["digest"] == "sha256:" + hashlib.sha256(b"no digest").hexdigest()
    with pytest.raises(ArchiveError, match="not a label"):
        list(cdxj_lines(world.catalog, ["maybe"]))


# -- the real sample files -------------------------------------------------------------------------


@pytest.mark.realdata
def test_provenance_of_real_captures(runner: CliRunner, db_url: str, shared_warcs: Path) -> None:
    issue = next(shared_warcs.rglob("issue-493.warc"))
    sample = next(shared_warcs.rglob("sample-0000.warc.gz"))
    catalog = Catalog.open(db_url)
    try:
        assert [r.status for r in ingest(catalog, [str(issue), str(sample)])] == [
            "complete",
            "complete",
        ]
    finally:
        catalog.close()

    def verdict(url: str) -> dict[str, Any]:
        result = runner.invoke(cli, ["--db", db_url, "provenance", url, "--json"])
        assert result.exit_code == 0, result.output
        data: dict[str, Any] = json.loads(result.stdout)
        return data

    pre = verdict("https://auer.netzliteratur.net/wendelin/wend1.htm")
    assert (pre["answer"], pre["evidence"]["kind"]) == ("yes", "captured")
    assert pre["evidence"]["capture_time"] == "2020-06-27T13:51:44Z"
    assert pre["evidence"]["warc_file"] == str(issue)
    post = verdict("https://soldaini.net/")
    assert post["answer"] == "no" and post["evidence"] is None
    assert post["earliest"]["capture_time"] == "2024-04-25T16:24:44Z"
    assert post["earliest"]["label"] == "post"
    for data in (pre, post):
        ident = data["recheck"]["id"]
        cat = runner.invoke(cli, ["--db", db_url, "cat", str(ident)])
        assert cat.exit_code == 0
        assert hashlib.sha256(cat.stdout_bytes).hexdigest() == data["recheck"]["payload_sha256"]
        shown = json.loads(
            runner.invoke(cli, ["--db", db_url, "show", str(ident), "--json"]).stdout
        )
        assert hashlib.sha256(cat.stdout_bytes).hexdigest() == shown["payload_sha256"]
