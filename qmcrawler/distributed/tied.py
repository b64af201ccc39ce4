"""`python -m qmcrawler.distributed.tied PARENT_PID ARGV…`: run ARGV, killed when its worker dies.

The worker starts each crawl through this (Linux `prctl(PR_SET_PDEATHSIG, SIGKILL)`, kept
across `exec`): a worker killed with `kill -9` takes its crawl with it, as a machine that dies
would, so the job's retry on another worker never runs beside an orphaned crawl of the site.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> int:
    if len(argv) < 2 or not argv[0].isdigit():
        print("usage: python -m qmcrawler.distributed.tied PARENT_PID ARGV…", file=sys.stderr)
        return 2
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != int(argv[0]):  # the worker died before the signal was armed
        return 1
    os.execv(argv[1], argv[1:])  # noqa: S606 - the worker's own crawl command
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
