"""Whether a page nests deeper than the HTML parser follows (libxml2 stops at 256 levels).

Past that depth libxml2 drops the rest of the document (it would need XML_PARSE_HUGE, and the
extractor's tree walks would then recurse 100,000 levels deep), so a page of 100,000 nested
`<div>`s extracts to nothing. That is not a page built by JavaScript: the crawl logs it as a
failed fetch with reason `too_deep`, which tells the operator what happened.
"""

from __future__ import annotations

import lxml.etree
import lxml.html

#: libxml2's nesting limit without XML_PARSE_HUGE
MAX_DEPTH = 256
_DEPTH_ERROR = "Excessive depth"


def too_deep(html: str) -> bool:
    """True if parsing `html` hit the parser's nesting limit (content past it is lost)."""
    if html.count("<") < MAX_DEPTH:  # cannot nest that deep: no second parse
        return False
    parser = lxml.html.HTMLParser()
    try:
        lxml.html.document_fromstring(html, parser=parser)
    except (lxml.etree.ParserError, ValueError, TypeError):
        return False
    return any(_DEPTH_ERROR in entry.message for entry in parser.error_log)
