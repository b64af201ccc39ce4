"""Scrapy spiders: the generic config-driven `site` spider (thin site subclasses only when needed)."""
