"""Where the user's inputs (files, directories, globs, URLs) become the files to ingest."""

from __future__ import annotations

import glob
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from archive.remote import is_remote, redact, url_problem

# What a directory walk picks up. A file named explicitly is taken whatever its name.
ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".warc.gzip")
_GLOB_CHARS = frozenset("*?[")
# How many of the latest file names ``expand_inputs`` remembers to drop a name given twice.
RECENT_NAMES = 100_000


@dataclass(frozen=True)
class Source:
    """One input to ingest: a local file or an http(s) URL, or the reason an input names none.

    A URL keeps the credentials the user put in it (they are needed to fetch it); what is
    printed or catalogued of it goes through ``redact``.
    """

    location: str
    problem: str | None = None


def is_archive_name(name: str) -> bool:
    """Whether a file name looks like a WARC or ARC file."""
    return name.lower().endswith(ARCHIVE_SUFFIXES)


def read_input_list(lines: Iterable[str]) -> Iterator[str]:
    """The inputs named by a list file: one path or URL per line; blanks and ``#`` lines skipped."""
    for line in lines:
        given = line.strip()
        if given and not given.startswith("#"):
            yield given


def expand_inputs(inputs: Iterable[str]) -> Iterator[Source]:
    """Yield each file named by ``inputs``, in a stable order, and each input that names none.

    ``inputs`` is read lazily, one input at a time. A file named twice is yielded once when
    the two names are among the last ``RECENT_NAMES`` files (a list of millions of lines is
    not held in memory); a copy named further apart is found by its SHA-256 and skipped.
    """
    seen: OrderedDict[str, None] = OrderedDict()
    for given in inputs:
        for source in _expand_one(given):
            if source.problem is None:
                if source.location in seen:
                    continue
                seen[source.location] = None
                if len(seen) > RECENT_NAMES:
                    seen.popitem(last=False)
            yield source


def _expand_one(given: str) -> Iterator[Source]:
    if is_remote(given):
        problem = url_problem(given)
        yield Source(given if problem is None else redact(given), problem)
        return
    if "://" in given and not given.startswith("file://"):
        yield Source(redact(given), "only http and https URLs and local paths are accepted")
        return
    path = Path(given.removeprefix("file://")).expanduser()
    if path.is_dir():
        yield from _walk(path)
        return
    if path.is_file():
        yield Source(os.path.abspath(path))
        return
    if _GLOB_CHARS & set(given):
        files: list[Source] = []
        for match in map(Path, sorted(glob.glob(os.path.expanduser(given), recursive=True))):
            # A directory the pattern names is walked like one named outright; one without
            # archives is passed over (``dir/**`` names every subdirectory).
            if match.is_dir():
                files.extend(s for s in _walk(match) if s.problem is None)
            elif match.is_file():
                files.append(Source(os.path.abspath(match)))
        if not files:
            yield Source(given, "no file matches this pattern")
        yield from files
        return
    if path.exists():
        yield Source(str(path.absolute()), "not a regular file")
    else:
        yield Source(str(path.absolute()), "no such file or directory")


def _walk(directory: Path) -> Iterator[Source]:
    found = sorted(p for p in directory.rglob("*") if p.is_file() and is_archive_name(p.name))
    if not found:
        yield Source(str(directory.absolute()), "directory holds no .warc/.arc files")
    for file in found:
        yield Source(os.path.abspath(file))
