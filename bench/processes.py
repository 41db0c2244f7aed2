"""Run one child process and measure it alone: wall time and its own peak RSS.

The peak RSS Linux reports for a child (ru_maxrss from os.wait4) is never below the RSS of the
process that forked it: exec keeps the high-water mark of the memory it replaces, and a forked
(or vforked) child starts with its parent's. Forked from this process, which holds SQLAlchemy,
a catalog and the lookups, a child would show this process's size instead of its own. So each
measured command is started by a small helper interpreter (about 10 MB) that forks, execs,
times it and reads its rusage, and writes them to a file for us.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

# Run as `python -S -c LAUNCHER RESULT_FILE COMMAND...`; exits with the command's status.
LAUNCHER = """
import os, sys, time
start = time.perf_counter()
pid = os.fork()
if pid == 0:
    try:
        os.execvp(sys.argv[2], sys.argv[2:])
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
seconds = time.perf_counter() - start
code = os.waitstatus_to_exitcode(status)
with open(sys.argv[1], "w") as out:
    out.write(f"{seconds} {usage.ru_maxrss} {code}")
sys.exit(code if 0 <= code < 256 else 1)
"""


@dataclass(frozen=True)
class ChildRun:
    """One finished child: its wall time (start-up included), peak RSS, exit code and output."""

    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    stderr: str


class ChildFailed(RuntimeError):
    """A measured command exited with a status the suite does not accept."""


def run_child(args: Sequence[str], *, ok: Sequence[int] = (0,)) -> ChildRun:
    """Run ``args`` from the repository root; raise ChildFailed unless it exits with ``ok``.

    The time is from fork to exit, so the command's own start-up is in it and the helper's is
    not. Output goes to temporary files (read once the child is gone).
    """
    env = dict(os.environ, PYTHONPATH=str(REPO))
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        tempfile.NamedTemporaryFile("r", suffix=".rusage") as result,
    ):
        launcher = [sys.executable, "-S", "-c", LAUNCHER, result.name, *args]
        subprocess.run(launcher, stdout=out, stderr=err, cwd=REPO, env=env, check=False)
        fields = result.read().split()
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    if len(fields) != 3:
        raise ChildFailed(f"{' '.join(args)} could not be started: {stderr.strip()[-300:]}")
    seconds, maxrss_kib, code = float(fields[0]), int(fields[1]), int(fields[2])
    run = ChildRun(seconds, maxrss_kib / 1024, code, stdout, stderr)
    if run.returncode not in ok:
        tail = (stderr or stdout).strip().splitlines()[-3:]
        raise ChildFailed(f"{' '.join(args)} exited {run.returncode}: {' | '.join(tail)}")
    return run
