"""Crawl the sites in sites.toml on their schedules: `python schedule.py [--config PATH] [--db PATH] [--once] [--list]`.

The logic lives in qmcrawler/run/scheduler.py; README.md, "Scheduling, notifications and reports", documents it.
"""

import os
import sys

from qmcrawler.run.scheduler import main

if __name__ == "__main__":
    try:
        code = main()
        sys.stdout.flush()  # here, so a reader that stopped early is handled below, not at exit
    except BrokenPipeError:  # `schedule.py --list | head -1`: no traceback, exit 1 as `qmcrawler` (Click) does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 1
    sys.exit(code)
