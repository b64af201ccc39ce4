"""Scrapy item pipelines: validate → extract → normalize → relevance → store (one module each)."""

from __future__ import annotations

from scrapy.crawler import Crawler

from qmcrawler.config import Site


def site_of(crawler: Crawler, site_id: str) -> Site | None:
    """The `Site` an item belongs to, from the running spider (None outside a `site` crawl)."""
    sites: dict[str, Site] = getattr(crawler.spider, "sites_by_id", {})
    return sites.get(site_id)
