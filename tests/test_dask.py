"""Scale-out: the executors, inputs that stream through a bounded window, a real Dask cluster.

The cluster tests run a ``distributed.LocalCluster`` of two worker processes against the
PostgreSQL catalog named by ARCHIVIST_TEST_PG_URL, and compare what its workers recorded with a
serial ingest of the same files into SQLite.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from conftest import LARGE_RECORDS, PG_ENV, _reset_postgres, archivist_command
from sqlalchemy import select
from warcbuilder import exchange, resource, response, revisit_of, warcinfo, write_warc

from archive.catalog import Catalog
from archive.errors import ArchiveError
from archive.executors import ExecutorError, in_order, open_executor
from archive.ingest import FileReport, ingest
from archive.models import Record, WarcFile
from cli.main import cli

D_PRE = "2019-03-14T09:00:00Z"
D_POST = "2023-05-01T12:00:00Z"


def page(url: str, words: str) -> bytes:
    return f"<html><body><p>{words}</p></body></html>".encode()


def crawl(host: str) -> list[Any]:
    first = response(f"http://{host}/a.html", page(host, f"The tide at {host} ran high."), D_PRE)
    return [
        warcinfo({"software": "tests/1"}, D_PRE),
        *exchange(first),
        resource(f"http://{host}/notes.txt", f"notes of {host}\n".encode(), D_PRE),
        revisit_of(first, D_POST),
    ]


# -- the window: lazy, bounded, in order -----------------------------------------------------------


class Counted:
    """An iterator that says how many items were taken from it."""

    def __init__(self, items: Iterator[str]) -> None:
        self._items = items
        self.taken = 0

    def __iter__(self) -> Iterator[str]:
        for item in self._items:
            self.taken += 1
            yield item


def test_in_order_reads_lazily_and_yields_in_input_order() -> None:
    window = 5
    release = {i: threading.Event() for i in range(40)}
    items = Counted(iter([str(i) for i in range(40)]))
    finished: list[int] = []
    futures: dict[int, Future[str]] = {}

    def task(n: int) -> str:
        release[n].wait(10)
        finished.append(n)
        return str(n)

    with ThreadPoolExecutor(max_workers=8) as pool:

        def submit(item: str) -> Future[str]:
            # Every fourth item is held until the three after it are submitted: later items
            # finish first, and the window must hold them back.
            n = int(item)
            if n % 4 != 0:
                release[n].set()
            if n % 4 == 3:
                futures[n - 1].result(10)
                futures[n - 2].result(10)
                release[n - 3].set()
            futures[n] = pool.submit(task, n)
            return futures[n]

        got = []
        for i, result in enumerate(
            in_order(items, submit, window=window, failed=lambda i, e: f"failed {i}")
        ):
            got.append(result)
            assert items.taken <= i + window
    assert got == [str(i) for i in range(40)]
    assert sorted(finished[:2]) == [1, 2]  # later items did finish first


def test_a_task_that_raises_is_a_failure_and_the_rest_go_on() -> None:
    def submit(item: int) -> Future[int]:
        future: Future[int] = Future()
        if item == 2:
            future.set_exception(RuntimeError("worker lost"))
        else:
            future.set_result(item * 10)
        return future

    def failed(item: int, exc: BaseException) -> int:
        assert isinstance(exc, RuntimeError) and str(exc) == "worker lost"
        return -item

    assert list(in_order(range(5), submit, window=2, failed=failed)) == [0, 10, -2, 30, 40]


def test_a_result_asked_again_is_rerun_once_after_the_tasks_beside_it() -> None:
    runs: list[int] = []
    running: dict[int, Future[str]] = {}

    def submit(item: int) -> Future[str]:
        runs.append(item)
        future: Future[str] = Future()
        if item == 0:
            running[0] = future  # still running when item 1 comes back busy
        elif runs.count(1) == 1:
            future.set_result("busy")
        else:
            assert running[0].done(), "the re-run started before the task beside it ended"
            future.set_result("skipped")
        if item == 1 and 0 in running and not running[0].done():
            threading.Timer(0.05, running[0].set_result, ["complete"]).start()
        return future

    results = list(
        in_order(
            [0, 1], submit, window=4, failed=lambda i, e: "failed", again=lambda r: r == "busy"
        )
    )
    assert results == ["complete", "skipped"]
    assert runs == [0, 1, 1]


def test_a_list_of_100k_lines_streams_through_a_bounded_window(tmp_path: Path) -> None:
    good = [write_warc(tmp_path / f"g{i}.warc.gz", crawl(f"g{i}.test")) for i in range(3)]
    lines = (
        str(good[n // 40_000]) if n % 40_000 == 0 else str(tmp_path / "gone" / f"{n}.warc.gz")
        for n in range(100_000)
    )
    inputs = Counted(lines)
    catalog = Catalog.open(str(tmp_path / "catalog.db"))
    try:
        statuses: dict[str, int] = {}
        window = 8
        for done, report in enumerate(ingest(catalog, inputs, jobs=2, window=window), 1):
            # Nothing is read far ahead of what is reported: memory does not grow with the list.
            assert inputs.taken <= done + window
            statuses[report.status] = statuses.get(report.status, 0) + 1
        assert statuses == {"complete": 3, "failed": 99_997}
        assert catalog.count_records() == 3 * len(crawl("x"))
    finally:
        catalog.close()


def test_ingest_from_a_list_on_stdin_reports_every_line(tmp_path: Path, runner: CliRunner) -> None:
    files = [write_warc(tmp_path / f"f{i}.warc.gz", crawl(f"f{i}.test")) for i in range(3)]
    shutil.copy(files[0], tmp_path / "copy.warc.gz")
    listed = [*map(str, files), str(tmp_path / "copy.warc.gz"), str(tmp_path / "gone.warc")]
    db = str(tmp_path / "catalog.db")
    result = runner.invoke(
        cli,
        ["--db", db, "ingest", "--jobs", "2", "--from-list", "-", "--no-text"],
        input="\n".join(listed) + "\n",
    )
    assert result.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    statuses = [line.split()[0] for line in lines[:5]]
    # In input order; which of two copies wins the claim is a race, the other is skipped.
    assert sorted([statuses[0], statuses[3]]) == ["complete", "skipped"]
    assert statuses[1:3] + statuses[4:] == ["complete", "complete", "failed"]
    assert lines[5] == "5 files (3 complete, 1 failed, 1 skipped); 15 records added; 1 problems"


# -- refusals: one line each -----------------------------------------------------------------------


def test_the_dask_executor_refuses_an_sqlite_catalog(tmp_path: Path, runner: CliRunner) -> None:
    path = write_warc(tmp_path / "a.warc.gz", crawl("a.test"))
    args = ["ingest", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", str(path)]
    result = runner.invoke(cli, ["--db", str(tmp_path / "c.db"), *args])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the Dask executor needs a catalog every worker")
    assert "postgresql://" in result.stderr and len(result.stderr.splitlines()) == 1


def test_the_dask_executor_needs_a_scheduler() -> None:
    with pytest.raises(ExecutorError, match=r"needs a scheduler address \(--scheduler"):
        open_executor("dask", scheduler=None)
    with pytest.raises(ExecutorError, match="unknown executor 'ray'"):
        open_executor("ray")
    assert issubclass(ExecutorError, ArchiveError)


@pytest.fixture
def pg_url() -> str:
    """The PostgreSQL catalog of these tests, emptied (skipped without a server)."""
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests need a server (see README)")
    _reset_postgres(url)
    return url


@pytest.mark.postgres
def test_an_unreachable_scheduler_is_one_line(
    pg_url: str, tmp_path: Path, runner: CliRunner
) -> None:
    import dask.config
    import distributed  # noqa: F401  # its defaults first: the setting below restores on exit

    path = write_warc(tmp_path / "a.warc.gz", crawl("a.test"))
    args = ["ingest", "--executor", "dask", "--scheduler", "tcp://127.0.0.1:1", str(path)]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        result = runner.invoke(cli, ["--db", pg_url, *args])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: cannot reach the Dask scheduler at tcp://127.0.0.1:1")
    assert len(result.stderr.splitlines()) == 1


# -- a real cluster: two worker processes, one PostgreSQL catalog ----------------------------------


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    """Two worker processes of one thread each; every process is gone after the module."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set: the cluster writes to PostgreSQL")
    from distributed import Client, LocalCluster

    local = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0")
    client = Client(local, set_as_default=False)
    pids: set[int] = set()
    try:
        yield local
    finally:
        # Workers restarted after a kill have new ids: ask for them at the end.
        pids = set(client.run(os.getpid).values())
        client.close()
        local.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.1)
        assert not any(_alive(pid) for pid in pids), "a worker process outlived its cluster"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def record_keys(catalog: Catalog) -> list[tuple[Any, ...]]:
    """Every record as (file SHA-256, offset, ...): what it is, not which id it got."""
    statement = select(
        WarcFile.sha256,
        Record.offset,
        Record.length,
        Record.warc_record_id,
        Record.payload_sha256,
        Record.text_sha256,
        Record.label,
    ).join(WarcFile, WarcFile.id == Record.file_id)
    with catalog.engine.connect() as connection:
        return sorted(tuple(row) for row in connection.execute(statement))


@pytest.mark.postgres
def test_a_dask_ingest_records_what_a_serial_ingest_records(
    cluster: Any, pg_url: str, tmp_path: Path, runner: CliRunner
) -> None:
    warcs = tmp_path / "warcs"
    warcs.mkdir()
    files = [
        write_warc(warcs / f"f{i}.warc{'' if i % 3 == 0 else '.gz'}", crawl(f"f{i}.test"))
        for i in range(8)
    ]
    copy = warcs / "copy-of-f1.warc.gz"
    shutil.copy(files[1], copy)
    broken = warcs / "broken.warc.gz"
    broken.write_bytes(b"this is not a WARC file\n" * 10)
    listed = [*map(str, files), str(copy), str(broken), str(warcs / "gone.warc.gz")]
    (tmp_path / "files.txt").write_text("\n".join(listed) + "\n")

    serial_db = str(tmp_path / "serial.db")
    serial = runner.invoke(cli, ["--db", serial_db, "ingest", *listed])
    args = ["ingest", "--executor", "dask", "--scheduler", cluster.scheduler_address]
    result = runner.invoke(cli, ["--db", pg_url, *args, "--from-list", str(tmp_path / "files.txt")])
    assert result.exit_code == serial.exit_code == 1, result.output
    lines = result.stdout.splitlines()
    assert [line.split()[1] for line in lines[:-1]] == listed
    assert lines[-1].startswith(f"{len(listed)} files (8 complete, 2 failed, 1 skipped)")
    # The workers extracted the texts while they had the files: none was left for the client.
    assert "text:" in serial.stdout
    by_path = {line.split()[1]: line.split()[0] for line in lines[:-1]}
    assert [by_path[str(f)] for f in files] == ["complete"] * len(files)
    assert by_path[str(copy)] == "skipped"
    assert by_path[str(broken)] == "failed"
    assert by_path[str(warcs / "gone.warc.gz")] == "failed"

    dask_catalog, serial_catalog = Catalog.open(pg_url), Catalog.open(serial_db)
    try:
        got = record_keys(dask_catalog)
        assert len(got) == len(set(got)) == len(files) * len(crawl("x"))
        assert got == record_keys(serial_catalog)
        assert any(key[5] is not None for key in got)  # the same texts, labels and evidence
    finally:
        dask_catalog.close()
        serial_catalog.close()

    again = runner.invoke(cli, ["--db", pg_url, *args, *map(str, files)])
    assert again.exit_code == 0, again.output
    assert all(line.startswith("skipped") for line in again.stdout.splitlines()[:-1])


def kill_the_writer_of(catalog: Catalog, sha256: str, process: subprocess.Popen[bytes]) -> int:
    """Wait until a worker has claimed the file and is reading it, then SIGKILL that worker."""
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline and process.poll() is None:
        file = catalog.file_by_sha256(sha256)
        if file is not None and file.status == "ingesting" and file.claimed_by:
            victim = int(file.claimed_by.rpartition(":")[2])
        time.sleep(0.01)
    assert victim is not None, "no worker claimed the file"
    time.sleep(0.2)  # well inside the read: ingesting all of it takes seconds
    file = catalog.file_by_sha256(sha256)
    assert file is not None and file.status == "ingesting", "finished before the kill"
    os.kill(victim, signal.SIGKILL)
    return victim


def test_a_pool_process_killed_mid_file_is_run_again_in_a_fresh_pool(
    large_warc: Path, tmp_path: Path
) -> None:
    small = write_warc(tmp_path / "small.warc.gz", crawl("small.test"))
    sha256 = hashlib.sha256(large_warc.read_bytes()).hexdigest()
    db = str(tmp_path / "catalog.db")
    catalog, watcher = Catalog.open(db), Catalog.open(db)
    reports: list[FileReport] = []
    run = threading.Thread(
        target=lambda: reports.extend(ingest(catalog, [str(large_warc), str(small)], jobs=2))
    )
    run.start()
    try:
        victim = None
        deadline = time.monotonic() + 60
        while victim is None and time.monotonic() < deadline and run.is_alive():
            file = watcher.file_by_sha256(sha256)
            if file is not None and file.status == "ingesting" and file.claimed_by:
                victim = int(file.claimed_by.rpartition(":")[2])
            time.sleep(0.01)
        assert victim is not None and victim != os.getpid()
        time.sleep(0.2)
        file = watcher.file_by_sha256(sha256)
        assert file is not None and file.status == "ingesting", "finished before the kill"
        os.kill(victim, signal.SIGKILL)
        run.join(180)
        assert not run.is_alive()
        assert [r.path for r in reports] == [str(large_warc), str(small)]
        assert (reports[0].status, reports[0].records) == ("complete", LARGE_RECORDS)
        # The broken pool fails every task it held; one done but not yet answered is run again
        # and finds its file recorded.
        assert reports[1].status in ("complete", "skipped")
        assert catalog.count_records() == LARGE_RECORDS + len(crawl("x"))
    finally:
        run.join(180)
        catalog.close()
        watcher.close()


@pytest.mark.postgres
def test_a_worker_killed_mid_file_leaves_it_recorded_once(
    cluster: Any, pg_url: str, large_warc: Path, tmp_path: Path
) -> None:
    from distributed import Client

    with Client(cluster.scheduler_address, set_as_default=False) as client:
        workers = set(client.run(os.getpid).values())
    sha256 = hashlib.sha256(large_warc.read_bytes()).hexdigest()
    small = write_warc(tmp_path / "small.warc.gz", crawl("small.test"))
    command = [
        *archivist_command(),
        "--db",
        pg_url,
        "ingest",
        "--executor",
        "dask",
        "--scheduler",
        cluster.scheduler_address,
        "--no-text",
        str(large_warc),
        str(small),
    ]
    catalog = Catalog.open(pg_url)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        victim = kill_the_writer_of(catalog, sha256, process)
        assert victim in workers, f"the file was claimed by {victim}, not by a worker"
        out, err = process.communicate(timeout=180)
        assert process.returncode == 0, err.decode()
        lines = out.decode().splitlines()
        assert lines[0].startswith(f"complete  {large_warc}  ({LARGE_RECORDS} records)")
        assert lines[1].startswith(f"complete  {small}")
        file = catalog.file_by_sha256(sha256)
        assert file is not None and file.status == "complete" and file.claimed_by is None
        offsets = [r.offset for r in catalog.records_of_file(file.id)]
        assert len(offsets) == len(set(offsets)) == LARGE_RECORDS
        assert catalog.count_records() == LARGE_RECORDS + len(crawl("x"))
        with Client(cluster.scheduler_address, set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            assert victim not in set(client.run(os.getpid).values())  # it died, it was replaced
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
        catalog.close()


@pytest.mark.postgres
def test_a_file_whose_workers_all_die_is_failed_and_a_rerun_records_it(
    cluster: Any, pg_url: str, large_warc: Path, tmp_path: Path
) -> None:
    from distributed import Client

    def allow_failures(n: int, dask_scheduler: Any = None) -> None:
        dask_scheduler.allowed_failures = n

    sha256 = hashlib.sha256(large_warc.read_bytes()).hexdigest()
    small = write_warc(tmp_path / "small.warc.gz", crawl("small.test"))
    command = [
        *archivist_command(),
        *("--db", pg_url, "ingest", "--executor", "dask"),
        *("--scheduler", cluster.scheduler_address, "--no-text", str(large_warc), str(small)),
    ]
    catalog = Catalog.open(pg_url)
    client = Client(cluster.scheduler_address, set_as_default=False)
    process = subprocess.Popen(["true"])
    try:
        client.wait_for_workers(2, timeout=60)
        # The first worker death is the last one allowed: the scheduler gives up (KilledWorker).
        client.run_on_scheduler(allow_failures, 0)
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        kill_the_writer_of(catalog, sha256, process)
        out, err = process.communicate(timeout=180)
        assert process.returncode == 1
        lines = out.decode().splitlines()
        assert lines[0] == f"failed    {large_warc}  (1 problems)"
        assert lines[1].startswith(f"complete  {small}")  # the run went on
        assert err.decode().splitlines() == [
            f"error: {large_warc}: every Dask worker that tried it died while ingesting it: "
            "nothing recorded"
        ]
        file = catalog.file_by_sha256(sha256)
        assert file is not None and file.status == "ingesting"  # a claim, never half a file
        assert list(catalog.records_of_file(file.id)) == []

        client.run_on_scheduler(allow_failures, 3)
        rerun = subprocess.run(command, capture_output=True, text=True, timeout=180)
        assert rerun.returncode == 0, rerun.stderr
        assert rerun.stdout.startswith(f"complete  {large_warc}  ({LARGE_RECORDS} records)")
        assert catalog.count_records() == LARGE_RECORDS + len(crawl("x"))
    finally:
        client.run_on_scheduler(allow_failures, 3)
        client.close()
        catalog.close()
        if process.poll() is None:
            process.kill()
            process.communicate()
