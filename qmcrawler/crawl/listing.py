"""List pages of Chinese government CMSs without a browser: TRS, Hanweb JPaaS, Hanweb JCMS.

Plain functions over HTML/JSON text (DOMAIN.md §2.1-2.2, §2.7); the spider turns their output
into requests. Cheaper than rendering by a factor of ~30, so a site should use them when its
CMS is one of these:

- **trs**: `createPageHTML(<pages>, <current>, "index", "htm")` names the pages `index.htm`,
  `index_1.htm` … `index_<pages-1>.htm` (`qmcrawler.crawl.urls.trs_pages`, applied to every list page).
- **jpaas**: the column page is a shell with
  `<script src="/AuthorizedRead/unitbuild.js" url="…" queryData="{'webId':…}">`; the list comes
  from the API as JSON `{"data": {"html": "<ul>…</ul>"}}`, paged only by
  `paramJson={"pageNo":N,"pageSize":R}`.
- **hanweb** (JCMS): page 1 is XML inside `<script type="text/xml"><datastore>` with one
  `<record><![CDATA[<li>…</li>]]></record>` per item; later pages come from
  `/module/web/jpage/dataproxy.jsp?page=N&…` (the `<nextgroup>` link carries the parameters).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

_SCRIPT_TAG = re.compile(r"<script\b[^>]*>", re.I)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_DATASTORE = re.compile(r"<script[^>]*type=[\"']text/xml[\"'][^>]*>(.*?)</script>", re.I | re.S)
_RECORD = re.compile(r"<record>\s*<!\[CDATA\[(.*?)\]\]>\s*</record>", re.S)
_TOTAL = re.compile(r"<totalrecord>\s*(\d+)\s*</totalrecord>", re.I)
_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[.*?href=[\"']([^\"']+)[\"']", re.I | re.S)
_PERPAGE = re.compile(r"perPage\s*[:=]\s*['\"]?(\d+)", re.I)


@dataclass(frozen=True)
class JpaasQuery:
    """The API endpoint and parameters declared by a JPaaS column page."""

    api_url: str
    params: dict[str, str]

    def page_url(self, page_no: int, page_size: int = 20) -> str:
        """URL of list page `page_no` (1-based) from the JPaaS `build/unit` API."""
        query = {
            "parseType": "bulidstatic",
            "pageType": "column",
            **self.params,  # the site's spelling
            "paramJson": json.dumps({"pageNo": page_no, "pageSize": page_size}, separators=(",", ":")),
        }
        parts = urlsplit(self.api_url)
        existing = dict(parse_qsl(parts.query))
        return urlunsplit(parts._replace(query=urlencode({**existing, **query})))


def jpaas_query(html: str, page_url: str) -> JpaasQuery | None:
    """Read `url` and `queryData` from the `unitbuild.js` script tag, or None."""
    for tag in _SCRIPT_TAG.findall(html):
        attrs = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _ATTR.finditer(tag)}
        if "unitbuild" not in attrs.get("src", "") or "url" not in attrs or "querydata" not in attrs:
            continue
        try:
            data = json.loads(attrs["querydata"].replace("'", '"'))
        except json.JSONDecodeError:
            return None
        if not isinstance(data, dict):
            return None
        return JpaasQuery(urljoin(page_url, attrs["url"]), {str(k): str(v) for k, v in data.items()})
    return None


def jpaas_html(body: str) -> str:
    """The list HTML inside a JPaaS API answer (`{"data": {"html": …}}`); "" if absent."""
    try:
        data = json.loads(body)
    except json.JSONDecodeError:
        return ""
    inner = data.get("data") if isinstance(data, dict) else None
    html = inner.get("html") if isinstance(inner, dict) else None
    return html if isinstance(html, str) else ""


@dataclass(frozen=True)
class HanwebStore:
    """Page 1 of a JCMS list: its item HTML, the total count and the dataproxy link."""

    records: list[str]
    total: int | None
    proxy_url: str | None
    per_page: int

    @property
    def html(self) -> str:
        """The records as one HTML fragment (for ordinary link extraction)."""
        return "\n".join(self.records)

    def page_urls(self, limit: int) -> list[str]:
        """dataproxy URLs of pages 2 … min(pages, limit)."""
        if not self.proxy_url:
            return []
        pages = math.ceil(self.total / self.per_page) if self.total else 1
        parts = urlsplit(self.proxy_url)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        out = []
        for n in range(2, min(pages, limit) + 1):
            out.append(urlunsplit(parts._replace(query=urlencode({**query, "page": str(n)}))))
        return out


def hanweb_store(html: str, page_url: str) -> HanwebStore | None:
    """Unwrap `<script type="text/xml"><datastore>…` on a JCMS list page, or None."""
    for block in _DATASTORE.findall(html):
        if "<datastore" not in block.lower():
            continue
        records = _RECORD.findall(block)
        total = _TOTAL.search(block)
        nextgroup = _NEXTGROUP.search(block)
        per_page = _PERPAGE.search(html)
        proxy = urljoin(page_url, nextgroup.group(1).replace("&amp;", "&")) if nextgroup else None
        return HanwebStore(
            records=records,
            total=int(total.group(1)) if total else None,
            proxy_url=proxy,
            per_page=int(per_page.group(1)) if per_page else max(len(records), 1),
        )
    return None


def dataproxy_records(body: str) -> str:
    """Item HTML from a dataproxy.jsp answer (XML with `<record><![CDATA[…]]></record>`)."""
    return "\n".join(_RECORD.findall(body))
