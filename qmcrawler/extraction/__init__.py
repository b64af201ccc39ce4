"""Main-content and metadata extraction: `extract(html, url) -> Article`, never raising.

The extractor lives in `qmcrawler.extraction.extractor`; this package only names it, and imports
it on first use (PEP 562). The crawl's main process imports a few light modules of the package
(`encoding`, `article`) but never extracts: extraction runs in the worker processes, so the main
process does not pay for importing lxml's scorer, the vocabularies and OpenCC at start-up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from qmcrawler.extraction.extractor import extract

__all__ = ["EXTRACTOR_VERSION", "extract"]

#: Bump whenever the output for some page would change; the store records it with every version
#: so that re-extraction is not mistaken for a page change.
#: 1.3.0: `title`/`text` keep the page's full-width characters (comparison forms and hashes unchanged);
#: multi-page articles, body fallback, bylines, date checks, asides (issue 14).
#: 1.4.0: authors from two-line bylines, `[ 名 ] 来源`, bare name lines, padded `作者` fields, blog
#: owners; organisations and the site's own name in `<meta name=author>` are no longer authors.
EXTRACTOR_VERSION = "1.4.0"


def __getattr__(name: str) -> Any:
    if name == "extract":
        from qmcrawler.extraction.extractor import extract

        return extract
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
