"""List strategies without a browser: JPaaS API URLs, Hanweb datastore (DOMAIN.md F01, F02)."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from qmcrawler.crawl.listing import dataproxy_records, hanweb_store, jpaas_html, jpaas_query

JPAAS = """<div id="list"></div>
<script src="/AuthorizedRead/unitbuild.js" url="/api-gateway/jpaas-publish-server/front/page/build/unit"
 queryData="{'webId':'w1','pageId':'p1','tplSetId':'t1','tagId':'内容区域'}"></script>"""
HANWEB = """<div id="div1"><script type="text/xml"><datastore>
<nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&amp;columnid=77278&amp;unitid=4000"></a>]]>
</nextgroup><recordset>
<record><![CDATA[<li><a href="/art/2026/9/16/art_77278_1.html">质量月启动</a><span>2026-09-16</span></li>]]></record>
<record><![CDATA[<li><a href="/art/2026/9/10/art_77278_2.html">抽查通报</a></li>]]></record></recordset>
<totalrecord>45</totalrecord></datastore></script></div>
<script>$('#div1').jpage({ dataStore: dataStore, perPage: 15, proxyUrl: 'dataproxy.jsp' });</script>"""


def test_jpaas_query_and_pages() -> None:
    query = jpaas_query(JPAAS, "https://www.samr.gov.cn/xw/zj/")
    assert query is not None
    url = query.page_url(2, page_size=10)
    parts = urlsplit(url)
    assert parts.netloc == "www.samr.gov.cn"
    assert parts.path == "/api-gateway/jpaas-publish-server/front/page/build/unit"
    params = {k: v[0] for k, v in parse_qs(parts.query).items()}
    assert params["parseType"] == "bulidstatic"
    assert params["tagId"] == "内容区域"
    assert json.loads(params["paramJson"]) == {"pageNo": 2, "pageSize": 10}
    assert jpaas_query("<script src='/other.js'></script>", "https://x/") is None
    assert jpaas_html('{"data": {"html": "<ul><li>a</li></ul>"}}') == "<ul><li>a</li></ul>"
    assert jpaas_html("not json") == ""
    assert jpaas_html('{"data": null}') == ""


def test_hanweb_store() -> None:
    store = hanweb_store(HANWEB, "http://amr.jiangsu.gov.cn/col/col77278/index.html")
    assert store is not None
    assert len(store.records) == 2
    assert 'href="/art/2026/9/16/art_77278_1.html"' in store.html
    assert store.total == 45
    assert store.per_page == 15
    pages = store.page_urls(limit=10)
    assert len(pages) == 2  # 45 records / 15 per page = 3 pages: 2 and 3 from dataproxy
    q = parse_qs(urlsplit(pages[1]).query)
    assert q["page"] == ["3"]
    assert q["columnid"] == ["77278"]
    assert pages[0].startswith("http://amr.jiangsu.gov.cn/module/web/jpage/dataproxy.jsp?")
    assert store.page_urls(limit=2) == pages[:1]
    assert hanweb_store("<p>plain</p>", "http://x/") is None
    assert "art_1.html" in dataproxy_records("<datastore><record><![CDATA[<a href='art_1.html'>x</a>]]></record>")
