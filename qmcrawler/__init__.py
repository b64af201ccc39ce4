"""qmcrawler: a monitoring crawler for Chinese regulatory and news pages."""

__version__ = "0.1.0"
