"""Crawling from any number of machines: a job queue in the PostgreSQL that holds the store.

The queue is Procrastinate's (its tables live in the same database as the store). One job is
one crawl of one site, or of a batch of sites, run by a worker as its own `scrapy crawl`
subprocess writing into the same database:

    python -m qmcrawler worker --db postgresql://…   # on each crawling machine (qmcrawler.distributed.worker)
    python schedule.py --db postgresql://…           # one dispatcher: enqueues the due sites (.dispatcher)
    python -m qmcrawler enqueue SITE… --db …         # an on-demand crawl

`app` makes the Procrastinate app and its schema, `tasks` the crawl task and how jobs are
keyed and locked, `sitelock` the per-site lock held in the database while a site is crawled.
"""
