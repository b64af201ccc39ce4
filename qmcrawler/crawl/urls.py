"""URL identity: canonical form, big5 gateway aliases, session ids and cache-busters removed.

A page must keep one identity across runs, or a monitor reports it as removed under one URL
and new under another. `canonical_url` is idempotent and never raises; it keeps the scheme
(an http→https move is a real permanent redirect and is recorded as `moved`), while
`same_page` compares two URLs ignoring the scheme, for decisions such as "the canonical link
points to this very page".
"""

from __future__ import annotations

import functools
import re
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url as _w3lib_canonicalize

#: query parameters that carry a session or defeat caches, never page identity (lowercased).
#: Deliberately absent: `r` (Yii routes: `?r=news/view&id=5`) and `sid` (often a section id):
#: merging two pages loses data, while a duplicate page only costs a fetch.
VOLATILE_PARAMS = frozenset(
    {
        "jsessionid",
        "phpsessid",
        "aspsessionid",
        "sessionid",
        "session_id",
        "cfid",
        "cftoken",
        "_",
        "t",
        "ts",
        "timestamp",
        "time",
        "rnd",
        "rand",
        "random",
        "v",
        "ver",
        "version",
        "nocache",
        "cachebuster",
        "cb",
        "_t",
        "_dc",
        "spm",
        "utm_source",
        "utm_medium",
        "utm_campaign",
        "utm_term",
        "utm_content",
        "from",
        "isappinstalled",
        "share_token",
    }
)
#: `;jsessionid=...` style path parameters (Java, old ASP)
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/?#]*", re.I)
#: `big5.www.gov.cn/gate/big5/www.gov.cn/<path>`: an official traditional-Chinese gateway
_BIG5_GATE = re.compile(r"^/gate/big5/([^/]+)(/.*)?$", re.I)


def strip_volatile_params(query: str) -> str:
    """The query without session and cache-busting parameters (order kept)."""
    pairs = parse_qsl(query, keep_blank_values=True)
    kept = [(k, v) for k, v in pairs if k.lower() not in VOLATILE_PARAMS and not k.lower().startswith("aspsessionid")]
    return urlencode(kept)


def unalias(url: str) -> str:
    """Map a big5 gateway URL (`big5.<host>/gate/big5/<host>/<path>`) to the original URL."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    host = (parts.hostname or "").lower()
    match = _BIG5_GATE.match(parts.path)
    if match and (host.startswith("big5.") or host.startswith("big5-")):
        target_host = match.group(1).lower()
        return str(urlunsplit((parts.scheme or "https", target_host, match.group(2) or "/", parts.query, "")))
    return url


@functools.lru_cache(maxsize=4096)
def canonical_url(url: str) -> str:
    """The identity of a page: aliases resolved, volatile parameters dropped, w3lib-canonical.

    Lowercases scheme and host, drops default ports, the fragment, session ids and
    cache-busters, sorts the query. Idempotent; returns the input unchanged if it is not a URL.
    Cached: a crawl asks again for the links every list page repeats and for each article's URL
    when it is requested and when it is answered (w3lib's canonicalisation is ~25 µs a URL).
    """
    url = url.strip()
    try:
        parts = urlsplit(unalias(url))
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            return url
        path = _PATH_SESSION.sub("", parts.path)
        query = strip_volatile_params(parts.query)
        netloc = parts.netloc.lower()
        scheme = parts.scheme.lower()
        if (scheme, parts.port) in (("http", 80), ("https", 443)):
            netloc = netloc.rsplit(":", 1)[0]
        cleaned = urlunsplit((scheme, netloc, path or "/", query, ""))
        return str(_w3lib_canonicalize(cleaned, keep_fragments=False))
    except ValueError:
        return url


def same_page(a: str, b: str) -> bool:
    """True if two URLs name the same page (canonical forms equal, ignoring http vs https)."""
    ca, cb = canonical_url(a), canonical_url(b)
    return ca.split("://", 1)[-1] == cb.split("://", 1)[-1]


def same_site(a: str, b: str) -> bool:
    """True if two URLs share a registrable-looking host (exact host, or one is a subdomain)."""
    ha, hb = (urlsplit(a).hostname or "").lower(), (urlsplit(b).hostname or "").lower()
    ha, hb = ha.removeprefix("www."), hb.removeprefix("www.")
    return bool(ha) and (ha == hb or ha.endswith("." + hb) or hb.endswith("." + ha))


def page_number(url: str) -> int | None:
    """The pagination number a list URL carries (`index_7.htm`, `?page=7`, `index7.html`)."""
    parts = urlsplit(url)
    for key, value in parse_qsl(parts.query):
        if key.lower() in ("page", "pageno", "pagenum", "p", "pn", "curpage") and value.isdigit():
            return int(value)
    match = re.search(r"(?:index|list|page)[_-]?(\d+)\.s?html?$", parts.path, re.I)
    return int(match.group(1)) if match else None


_TRS_PAGER = re.compile(r"""createPageHTML\(\s*(\d+)\s*,\s*(\d+)\s*,\s*["'](\w+)["']\s*,\s*["'](\w+)["']""")


def trs_pages(html: str, base_url: str) -> list[str]:
    """Pagination URLs a TRS `createPageHTML(count, current, "index", "htm")` script would write."""
    match = _TRS_PAGER.search(html)
    if not match:
        return []
    count, prefix, ext = int(match.group(1)), match.group(3), match.group(4)
    return [urljoin(base_url, f"{prefix}_{n}.{ext}") for n in range(1, min(count, 10_000))]
