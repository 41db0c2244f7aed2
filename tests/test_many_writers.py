"""Many writers on one catalog: real `archivist ingest` processes racing, killed, cut off.

Every test starts its writers as separate processes (the console script, as an operator
would), so claims, leases, transactions and labels are exercised across real sessions.
Timeouts bound every wait: a deadlock fails the test instead of hanging it.
"""

from __future__ import annotations

import gzip
import hashlib
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select, update
from warcbuilder import Rec, make_record_id, response, revisit_of, write_warc

from archive.catalog import _LABEL_LOCK, Catalog
from archive.models import IngestError, Record, WarcFile

WAIT = 120  # seconds any writer may take before the test calls it a hang


def archivist(db: str, *paths: Path | str) -> list[str]:
    found = shutil.which("archivist") or str(Path(sys.executable).parent / "archivist")
    return [found, "--db", db, "ingest", "--no-text", "--no-progress", *map(str, paths)]


def start(db: str, *paths: Path | str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        archivist(db, *paths), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    try:
        out, err = process.communicate(timeout=WAIT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        pytest.fail(f"a writer did not finish in {WAIT} s (deadlock?)")
    return process.returncode, out, err


def statuses(out: str) -> list[str]:
    """The status word of each file line of `archivist ingest` output."""
    words = {"complete", "partial", "failed", "skipped", "busy"}
    firsts = (line.split(maxsplit=1)[:1] for line in out.splitlines())
    return [first[0] for first in firsts if first and first[0] in words]


def pages(tag: str, count: int, date: str) -> list[Rec]:
    """``count`` responses with payloads of their own (bulk that makes a transaction last)."""
    return [
        response(
            f"http://{tag}.test/{i}",
            f"<html><body><p>{tag} page {i}</p></body></html>".encode(),
            date,
            record_id=make_record_id(tag, str(i)),
        )
        for i in range(count)
    ]


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_each_record_once(catalog: Catalog, expected: int) -> None:
    with catalog.engine.connect() as connection:
        total = connection.execute(select(func.count()).select_from(Record)).scalar_one()
        places = connection.execute(
            select(func.count()).select_from(
                select(Record.file_id, Record.offset).distinct().subquery()
            )
        ).scalar_one()
        recorded = connection.execute(
            select(func.coalesce(func.sum(WarcFile.record_count), 0)).where(
                WarcFile.status.in_(["complete", "partial"])
            )
        ).scalar_one()
    assert (total, places, recorded) == (expected, expected, expected)


@pytest.fixture
def pg_url(db_url: str) -> str:
    if "://" not in db_url:
        pytest.skip("PostgreSQL only: a session's end is what these tests observe")
    return db_url


def plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


# -- the same file offered to several writers at once ----------------------------------------------


def test_one_file_offered_to_four_writers_is_ingested_once(db_url: str, tmp_path: Path) -> None:
    Catalog.open(db_url).close()  # the schema exists before the race: only the file is raced
    first = write_warc(tmp_path / "a.warc.gz", pages("same", 1500, "2019-05-01T00:00:00Z"))
    copies = [first, first, shutil.copy(first, tmp_path / "b.warc.gz"), tmp_path / "c.warc.gz"]
    shutil.copy(first, copies[3])
    results = [finish(p) for p in [start(db_url, path) for path in copies]]

    seen = sorted(s for _, out, _ in results for s in statuses(out))
    assert seen.count("complete") == 1, results
    assert set(seen) <= {"complete", "skipped", "busy"}, results
    for code, out, err in results:
        # Only a `busy` file (another writer had it at that moment) makes the exit status 1.
        assert code == (1 if "busy" in statuses(out) else 0), (out, err)
        assert "Traceback" not in err
    catalog = Catalog.open(db_url)
    try:
        assert_each_record_once(catalog, 1500)
        file = catalog.file_by_sha256(sha256_of(first))
        assert file is not None and file.status == "complete" and file.claimed_by is None
        code, out, _ = finish(start(db_url, *copies[1:]))
        assert code == 0 and statuses(out) == ["skipped"] * 3
        assert_each_record_once(catalog, 1500)
    finally:
        catalog.close()


def test_files_offered_to_three_writers_in_any_order_are_each_recorded_once(
    db_url: str, tmp_path: Path
) -> None:
    Catalog.open(db_url).close()
    files = [
        write_warc(
            tmp_path / f"f{i}.warc.gz", pages(f"site{i}", 40 + 30 * i, "2020-01-01T00:00:00Z")
        )
        for i in range(12)
    ]
    expected = sum(40 + 30 * i for i in range(12))
    # Every writer is given every file, each starting at a different one: they race on all.
    orders = [files[k:] + files[:k] for k in (0, 4, 8)]
    results = [finish(p) for p in [start(db_url, *order) for order in orders]]
    for _code, out, err in results:
        assert set(statuses(out)) <= {"complete", "skipped", "busy"}, (out, err)
        assert "Traceback" not in err
    completed = sorted(s for _, out, _ in results for s in statuses(out) if s == "complete")
    assert len(completed) == len(files)
    catalog = Catalog.open(db_url)
    try:
        assert_each_record_once(catalog, expected)
        with catalog.engine.connect() as connection:
            rows = connection.execute(select(WarcFile.status, WarcFile.claimed_by)).all()
        assert sorted(rows) == [("complete", None)] * len(files)
    finally:
        catalog.close()


# -- evidence when writers race --------------------------------------------------------------------

PAYLOAD = b"<html><body><p>The ferry timetable changed for the summer.</p></body></html>"


def race_files(tmp_path: Path, round_: int) -> tuple[Path, Path]:
    """A 2021 capture (and an original), and a 2024 copy of its payload (and a revisit of the
    original), each among enough other pages that the two transactions overlap.
    """
    original = response("http://ferry.test/", PAYLOAD, "2021-04-01T10:00:00Z")
    early = write_warc(
        tmp_path / f"early{round_}.warc.gz",
        [original, *pages(f"early{round_}", 1500, "2021-04-01T10:00:01Z")],
    )
    late = write_warc(
        tmp_path / f"late{round_}.warc.gz",
        [
            response("http://mirror.test/ferry", PAYLOAD, "2024-02-01T08:00:00Z"),
            revisit_of(original, "2024-02-01T08:00:01Z"),
            *pages(f"late{round_}", 1500, "2024-02-01T08:00:02Z"),
        ],
    )
    return early, late


def labels(catalog: Catalog) -> dict[tuple[str | None, str | None], tuple[Any, ...]]:
    """(url, date) -> (label, evidence kind, url and date of the evidence) of the race's pages."""
    with catalog.engine.connect() as connection:
        rows = connection.execute(
            select(
                Record.id,
                Record.target_uri,
                Record.date_raw,
                Record.label,
                Record.evidence_kind,
                Record.evidence_record_id,
            ).where(Record.is_capture)
        ).all()
    where = {r.id: (r.target_uri, r.date_raw) for r in rows}
    return {
        (r.target_uri, r.date_raw): (r.label, r.evidence_kind, where.get(r.evidence_record_id))
        for r in rows
    }


def reset(db_url: str, tmp_path: Path, round_: int) -> str:
    if "://" in db_url:
        with psycopg.connect(plain(db_url), autocommit=True) as conn:
            conn.execute("DROP SCHEMA public CASCADE")
            conn.execute("CREATE SCHEMA public")
        url = db_url
    else:
        url = str(tmp_path / f"race{round_}.db")
    Catalog.open(url).close()
    return url


def test_a_2021_copy_and_a_2024_capture_from_two_writers_label_as_a_serial_ingest(
    db_url: str, tmp_path: Path
) -> None:
    early, late = race_files(tmp_path, 0)
    serial_url = reset(db_url, tmp_path, 0)
    for path in (late, early):
        assert finish(start(serial_url, path))[0] == 0
    catalog = Catalog.open(serial_url)
    serial = labels(catalog)
    catalog.close()
    assert serial[("http://mirror.test/ferry", "2024-02-01T08:00:00Z")] == (
        "pre",
        "same-payload",
        ("http://ferry.test/", "2021-04-01T10:00:00Z"),
    )
    assert serial[("http://ferry.test/", "2024-02-01T08:00:01Z")][:2] == ("pre", "revisit")

    for round_ in range(1, 5):
        url = reset(db_url, tmp_path, round_)
        writers = [start(url, late), start(url, early)]
        for code, out, err in (finish(w) for w in writers):
            assert code == 0 and statuses(out) == ["complete"], (out, err)
        catalog = Catalog.open(url)
        try:
            assert labels(catalog) == serial, f"round {round_}"
            assert_each_record_once(catalog, 1501 + 1502)
        finally:
            catalog.close()


# -- writers that die or lose the catalog ---------------------------------------------------------


@pytest.fixture(scope="module")
def large_warc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 12 MB of gzip members with incompressible bodies: seconds of reading to interrupt."""
    rng = random.Random(11)
    path = tmp_path_factory.mktemp("large") / "large.warc.gz"
    with path.open("wb") as fh:
        for i in range(4000):
            rec = response(f"http://big.test/{i}", rng.randbytes(3000), "2019-01-01T00:00:00Z")
            fh.write(gzip.compress(rec.to_bytes(), compresslevel=1, mtime=0))
    return path


def wait_for(condition: Any, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def claimed(catalog: Catalog, sha256: str) -> bool:
    file = catalog.file_by_sha256(sha256)
    return file is not None and file.status == "ingesting"


def test_a_writer_killed_mid_file_on_any_host_is_taken_over_at_once(
    pg_url: str, large_warc: Path
) -> None:
    catalog = Catalog.open(pg_url)
    try:
        sha256 = sha256_of(large_warc)
        writer = start(pg_url, large_warc)
        wait_for(lambda: claimed(catalog, sha256) or writer.poll() is not None, "the claim")
        time.sleep(0.2)  # inside the read: reading all of it takes seconds
        assert writer.poll() is None, "the ingest finished before it could be killed"
        writer.send_signal(signal.SIGKILL)
        writer.communicate()
        assert catalog.count_records() == 0
        # The claim now names a writer on another machine, claimed a moment ago: no PID can be
        # checked and the six-hour rule would wait. The free lease says the writer is gone.
        with catalog.engine.begin() as connection:
            connection.execute(
                update(WarcFile)
                .where(WarcFile.sha256 == sha256)
                .values(claimed_by="worker-7.elsewhere:4242")
            )
        code, out, err = finish(start(pg_url, large_warc))
        assert code == 0 and statuses(out) == ["complete"], (out, err)
        assert_each_record_once(catalog, 4000)
    finally:
        catalog.close()


def test_a_live_writer_on_another_host_keeps_its_claim(pg_url: str, tmp_path: Path) -> None:
    path = write_warc(tmp_path / "a.warc.gz", pages("live", 10, "2019-01-01T00:00:00Z"))
    holder = Catalog.open(pg_url)
    try:
        claim = holder.claim_file(sha256_of(path), path.stat().st_size, "/elsewhere/a.warc.gz")
        with holder.engine.begin() as connection:
            connection.execute(
                update(WarcFile)
                .where(WarcFile.id == claim.file_id)
                .values(claimed_by="worker-7.elsewhere:4242")
            )
        code, out, _ = finish(start(pg_url, path))
        assert code == 1 and statuses(out) == ["busy"]
        holder.close()  # the holder's session ends, as when its machine goes away
        code, out, _ = finish(start(pg_url, path))
        assert code == 0 and statuses(out) == ["complete"]
    finally:
        holder.close()


def writer_waiting_on_labels(url: str, writer: subprocess.Popen[str]) -> list[int]:
    """Backend PIDs of ``writer``'s sessions waiting for the labelling lock."""
    with psycopg.connect(plain(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE application_name LIKE %s "
            "AND wait_event_type = 'Lock' AND wait_event = 'advisory'",
            (f"archivist %:{writer.pid}",),
        ).fetchall()
    return [pid for (pid,) in rows]


class LabelLock:
    """The test holds the labelling lock: a writer's transaction stops just before labelling,
    with every row of its file copied but not committed."""

    def __init__(self, url: str) -> None:
        self.conn = psycopg.connect(plain(url), autocommit=True)
        self.conn.execute("SELECT pg_advisory_lock(%s)", (_LABEL_LOCK,))

    def release(self) -> None:
        if not self.conn.closed:
            self.conn.close()


@pytest.fixture
def label_lock(pg_url: str) -> Iterator[LabelLock]:
    Catalog.open(pg_url).close()
    lock = LabelLock(pg_url)
    yield lock
    lock.release()


def test_a_writer_killed_inside_its_transaction_leaves_nothing(
    pg_url: str, tmp_path: Path, label_lock: LabelLock
) -> None:
    path = write_warc(tmp_path / "a.warc.gz", pages("killed", 2000, "2019-01-01T00:00:00Z"))
    writer = start(pg_url, path)
    wait_for(lambda: writer_waiting_on_labels(pg_url, writer), "the writer's transaction")
    writer.send_signal(signal.SIGKILL)
    writer.communicate()
    label_lock.release()
    catalog = Catalog.open(pg_url)
    try:
        assert catalog.count_records() == 0
        code, out, err = finish(start(pg_url, path))
        assert code == 0 and statuses(out) == ["complete"], (out, err)
        assert_each_record_once(catalog, 2000)
    finally:
        catalog.close()


def test_a_lost_connection_fails_that_file_and_the_others_go_on(
    pg_url: str, tmp_path: Path, label_lock: LabelLock
) -> None:
    victim = write_warc(tmp_path / "a.warc.gz", pages("victim", 2000, "2019-01-01T00:00:00Z"))
    others = [
        write_warc(tmp_path / f"{n}.warc.gz", pages(n, 50, "2019-01-01T00:00:00Z"))
        for n in ("b", "c")
    ]
    writer = start(pg_url, victim, *others)
    wait_for(lambda: writer_waiting_on_labels(pg_url, writer), "the writer's transaction")
    with psycopg.connect(plain(pg_url), autocommit=True) as conn:
        for pid in writer_waiting_on_labels(pg_url, writer):
            conn.execute("SELECT pg_terminate_backend(%s)", (pid,))
    label_lock.release()
    code, out, err = finish(writer)
    assert code == 1 and statuses(out) == ["failed", "complete", "complete"], (out, err)
    assert "rolled back" in err and "Traceback" not in err
    catalog = Catalog.open(pg_url)
    try:
        file = catalog.file_by_sha256(sha256_of(victim))
        assert file is not None and file.status == "failed" and file.claimed_by is None
        assert list(catalog.records_of_file(file.id)) == []
        assert_each_record_once(catalog, 100)
        with catalog.engine.connect() as connection:
            (message,) = connection.execute(
                select(IngestError.message).where(IngestError.file_id == file.id)
            ).scalars()
        assert "rolled back" in message
        # The next run tries the failed file again.
        code, out, err = finish(start(pg_url, victim, *others))
        assert code == 0 and statuses(out) == ["complete", "skipped", "skipped"], (out, err)
        assert_each_record_once(catalog, 2100)
    finally:
        catalog.close()


# -- a catalog that cannot be used ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"user": "nosuchwriter", "password": "s3cret"}, "nosuchwriter"),
        ({"dbname": "archivist_no_such_db"}, "archivist_no_such_db"),
        ({"host": "127.0.0.1", "port": 9}, "cannot open catalog"),
    ],
    ids=["wrong-credentials", "missing-database", "unreachable"],
)
def test_an_unusable_server_is_one_line_and_nothing_is_written(
    pg_url: str, tmp_path: Path, change: dict[str, Any], words: str
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    url = url.set(
        username=change.get("user", url.username),
        password=change.get("password", url.password),
        database=change.get("dbname", url.database),
        host=change.get("host", url.host),
        port=change.get("port", url.port),
    )
    bad = url.render_as_string(hide_password=False)
    path = write_warc(tmp_path / "a.warc.gz", pages("x", 3, "2019-01-01T00:00:00Z"))
    code, out, err = finish(start(bad, path))
    assert code != 0 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], err
    assert "s3cret" not in err
    with psycopg.connect(plain(pg_url), autocommit=True) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
    assert tables == (0,)
