"""The options of commands that fetch remote WARC files (``ingest``, ``cat``), in one place."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from archive.remote import (
    DEFAULT_ATTEMPTS,
    DEFAULT_BACKOFF,
    DEFAULT_MAX_SIZE,
    DEFAULT_TIMEOUT,
    RemoteOptions,
)

F = TypeVar("F", bound=Callable[..., Any])

_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
_SIZE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?)(?:i?b)?\s*$", re.IGNORECASE)


class ByteSize(click.ParamType):
    """A size in bytes: ``1048576``, ``500M``, ``1.5G``, ``2TiB``; ``0`` for no limit."""

    name = "size"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        match = _SIZE.match(str(value))
        if match is None:
            self.fail(f"not a size: {value!r} (e.g. 500M, 10G)", param, ctx)
        return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def remote_options(command: F) -> F:
    """Add the options of remote transfers; the command receives them as ``remote``."""

    @click.option(
        "--cache",
        metavar="DIR",
        type=click.Path(file_okay=False, path_type=Path),
        envvar="ARCHIVIST_CACHE",
        help="Keep downloaded remote files in DIR (named by SHA-256); later reads are local. "
        "Env: ARCHIVIST_CACHE.",
    )
    @click.option(
        "--timeout",
        type=click.FloatRange(min=0, min_open=True),
        default=DEFAULT_TIMEOUT,
        show_default=True,
        envvar="ARCHIVIST_HTTP_TIMEOUT",
        help="Seconds to wait for a connection or for the next bytes of a response. "
        "Env: ARCHIVIST_HTTP_TIMEOUT.",
    )
    @click.option(
        "--max-size",
        type=ByteSize(),
        default=DEFAULT_MAX_SIZE,
        show_default=_human(DEFAULT_MAX_SIZE),
        envvar="ARCHIVIST_MAX_SIZE",
        help="Refuse remote files larger than this (0: no limit). Env: ARCHIVIST_MAX_SIZE.",
    )
    @click.option(
        "--attempts",
        type=click.IntRange(1, 100),
        default=DEFAULT_ATTEMPTS,
        show_default=True,
        envvar="ARCHIVIST_HTTP_ATTEMPTS",
        help="Attempts per request before giving up. Env: ARCHIVIST_HTTP_ATTEMPTS.",
    )
    @click.option(
        "--backoff",
        type=click.FloatRange(min=0),
        default=DEFAULT_BACKOFF,
        envvar="ARCHIVIST_HTTP_BACKOFF",
        hidden=True,
        help="First wait between attempts, in seconds (doubles each time).",
    )
    @functools.wraps(command)
    def wrapper(
        *args: Any,
        cache: Path | None,
        timeout: float,
        max_size: int,
        attempts: int,
        backoff: float,
        **kwargs: Any,
    ) -> Any:
        kwargs["remote"] = RemoteOptions(
            timeout=timeout,
            max_size=max_size or None,
            cache=cache,
            attempts=attempts,
            backoff=backoff,
        )
        return command(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _human(size: int) -> str:
    for unit in "TGMk":
        if size and size % _UNITS[unit.lower()] == 0:
            return f"{size // _UNITS[unit.lower()]}{unit.upper()}"
    return str(size)
