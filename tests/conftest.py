"""Shared fixtures: a fresh catalog on each backend, the real sample WARCs, the CLI runner."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from warcbuilder import response

from archive.catalog import Catalog

PG_ENV = "ARCHIVIST_TEST_PG_URL"
SHARED_WARCS = Path(__file__).resolve().parents[2] / "shared" / "data" / "warcs"


def _reset_postgres(url: str) -> None:
    """Empty the test database so each test starts from a schema-less catalog."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        with psycopg.connect(plain, autocommit=True, connect_timeout=5) as conn:
            conn.execute("DROP SCHEMA IF EXISTS public CASCADE")
            conn.execute("CREATE SCHEMA public")
    except psycopg.OperationalError as exc:
        # CI sets the URL on purpose: an unreachable server there is a failure, not a skip.
        pytest.fail(f"{PG_ENV} is set but PostgreSQL is unreachable: {exc}")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A catalog location with nothing in it: an SQLite path, or the reset PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.db")
    url = os.environ.get(PG_ENV)
    if not url:
        pytest.skip(f"{PG_ENV} is not set: PostgreSQL tests need a server (see README)")
    _reset_postgres(url)
    return url


@pytest.fixture
def catalog(db_url: str) -> Iterator[Catalog]:
    """An open, migrated, empty catalog on each backend."""
    opened = Catalog.open(db_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_catalog(tmp_path: Path) -> Iterator[Catalog]:
    """An open, migrated, empty SQLite catalog (for tests about SQLite itself)."""
    opened = Catalog.open(str(tmp_path / "catalog.db"))
    yield opened
    opened.close()


@pytest.fixture
def shared_warcs() -> Path:
    """The real WARC/ARC files of ../shared/data/warcs (skipped when the folder is absent)."""
    if not SHARED_WARCS.is_dir():
        pytest.skip(f"{SHARED_WARCS} is absent: real-file tests need the shared sample WARCs")
    return SHARED_WARCS


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


# Records of `large_warc`: enough work (seconds) for a test to kill a writer in the middle.
LARGE_RECORDS = 8000


@pytest.fixture(scope="session")
def large_warc(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 25 MB of gzip members with incompressible bodies: seconds of work to interrupt."""
    rng = random.Random(7)
    path = tmp_path_factory.mktemp("large") / "large.warc.gz"
    with path.open("wb") as fh:
        for i in range(LARGE_RECORDS):
            body = rng.randbytes(3000)
            rec = response(f"http://big.test/{i}", body, "2019-03-14T09:00:00Z", block_digest=None)
            fh.write(gzip.compress(rec.to_bytes(), compresslevel=1, mtime=0))
    return path


def archivist_command() -> list[str]:
    """The installed `archivist` console script, to run as a real process."""
    found = shutil.which("archivist") or str(Path(sys.executable).parent / "archivist")
    assert Path(found).exists(), "the archivist console script is not installed"
    return [found]
