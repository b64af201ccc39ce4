"""Crawl the sites in sites.toml on their schedules: `python schedule.py [--config PATH] [--db PATH] [--once] [--list]`.

The logic lives in qmcrawler/run/scheduler.py; README.md, "Scheduling, notifications and reports", documents it.
"""

import sys

from qmcrawler.run.scheduler import main

if __name__ == "__main__":
    sys.exit(main())
