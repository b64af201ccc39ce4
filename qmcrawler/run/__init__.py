"""Running crawls: schedules, crawl subprocesses and their supervision, per-site locks."""
