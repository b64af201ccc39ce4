"""Test helper: serve tests/fixtures/sites (one MiniWeb per real host) and point the shipped sites.toml at it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from qmcrawler.demo.miniweb import MiniWeb

ROOT = Path(__file__).parent.parent
FIXTURE = Path(__file__).parent / "fixtures" / "sites"
JPAAS_API = "/api-gateway/jpaas-publish-server/front/page/build/unit"
DATAPROXY = "/module/web/jpage/dataproxy.jsp"
EXPECTED: dict[str, Any] = json.loads((FIXTURE / "expected.json").read_text(encoding="utf-8"))


def jpaas(rows_by_page_id: dict[str, list[list[str]]]):  # type: ignore[no-untyped-def]
    """The JPaaS `build/unit` API: one row per page (only `paramJson` pages), rows chosen by pageId."""

    def answer(query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        page = int(json.loads(query["paramJson"])["pageNo"]) if "paramJson" in query else 1
        rows = rows_by_page_id.get(query.get("pageId", ""), [])[page - 1 : page]
        html = (
            "<ul>"
            + "".join(
                f'<li class="content-3-left-text"><a href="{u}" target="_blank">{t}</a>'
                f'<div class="contentRight01time">{d}</div></li>'
                for u, t, d in rows
            )
            + "</ul>"
        )
        body = json.dumps({"success": True, "data": {"html": html}}, ensure_ascii=False).encode()
        return 200, {"Content-Type": "application/json;charset=UTF-8"}, body

    return answer


def dataproxy(records_by_column: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    """JCMS `dataproxy.jsp`: page N (N >= 2) is record N-2 of the column's later records."""

    def answer(query: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        page = int(query.get("page", "1"))
        rows = records_by_column.get(query.get("columnid", ""), [])[page - 2 : page - 1] if page >= 2 else []
        records = "".join(f"<record><![CDATA[{r}]]></record>" for r in rows)
        return 200, {"Content-Type": "text/xml;charset=UTF-8"}, f"<datastore>{records}</datastore>".encode()

    return answer


@dataclass
class SitesWeb:
    """The fixture hosts being served, and the shipped sites.toml rewritten to reach them."""

    webs: dict[str, MiniWeb]
    config_text: str

    def url(self, site_id: str, path: str) -> str:
        return self.webs[EXPECTED["sites"][site_id]["host"]].base + path

    def requests(self, host: str) -> list[str]:
        return list(self.webs[host].requests)

    def write_config(self, path: Path, **replace: str) -> Path:
        text = self.config_text
        for old, new in replace.items():
            assert old in text, old
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")
        return path


def rewrite(config_text: str, bases: dict[str, str]) -> str:
    """Point every http(s)://HOST of the shipped config at its local server; allow 127.0.0.1 only."""
    for host, base in bases.items():
        config_text = re.sub(rf"https?://{re.escape(host)}(?=[/\"'])", base, config_text)
    return re.sub(r"^allowed_domains = \[.*\]$", 'allowed_domains = ["127.0.0.1"]', config_text, flags=re.M)


@contextmanager
def serve_sites() -> Iterator[SitesWeb]:
    """Serve each fixture host on its own port; yield the rewritten sites.toml text."""
    hosts = sorted({s["host"] for s in EXPECTED["sites"].values()})
    with ExitStack() as stack:
        webs = {h: stack.enter_context(MiniWeb([FIXTURE / h])) for h in hosts}
        webs["www.samr.gov.cn"].add_handler(JPAAS_API, jpaas(EXPECTED["jpaas"]))
        for host in ("zjamr.zj.gov.cn", "scjgj.jiangsu.gov.cn"):
            webs[host].add_handler(DATAPROXY, dataproxy(EXPECTED["dataproxy"]))
        text = rewrite((ROOT / "sites.toml").read_text(encoding="utf-8"), {h: w.base for h, w in webs.items()})
        yield SitesWeb(webs=webs, config_text=text)
