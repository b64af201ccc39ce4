"""The offline demo: bundled Quality Month sample sites, crawled three times (`make demo`)."""
