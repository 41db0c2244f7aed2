"""Alembic environment: archivist passes a connection; a bare `alembic` run uses ARCHIVIST_DB."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from archive.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from archive.catalog import catalog_url

    engine = create_engine(catalog_url(os.environ.get("ARCHIVIST_DB", "archive.db")))
    with engine.connect() as connection:
        _run(connection)
        connection.commit()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("archivist migrations run online only: archivist db upgrade")
run_migrations()
