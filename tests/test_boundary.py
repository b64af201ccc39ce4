"""Issue 12 §2: redirects and meta refreshes never leave `allowed_domains` nor reach internal addresses."""

from __future__ import annotations

import ipaddress
import json
from pathlib import Path

import pytest

from qmcrawler.crawl.addresses import blocked_reason, parse_ip
from qmcrawler.demo.miniweb import MiniWeb
from tests.faultweb import FAULTS, serve

ARTICLE = (FAULTS / "day1" / "art" / "plain.htm").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("169.254.169.254", "169.254.169.254"),
        ("2852039166", "169.254.169.254"),
        ("0xA9FEA9FE", "169.254.169.254"),
        ("0251.0376.0251.0376", "169.254.169.254"),
        ("169.254.43518", "169.254.169.254"),
        ("0xa9.0xfe.0xa9.0xfe", "169.254.169.254"),
        ("2130706433", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("::ffff:169.254.169.254", "169.254.169.254"),
        ("[::1]", "::1"),
        ("169.254.169.254.", "169.254.169.254"),
    ],
)
def test_ip_literals_in_every_spelling(host: str, address: str) -> None:
    assert parse_ip(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize("host", ["www.samr.gov.cn", "localhost", "cafe", "deadbeef", "1.2.3.4.5", ""])
def test_names_are_not_ip_literals(host: str) -> None:
    assert parse_ip(host) is None


@pytest.mark.parametrize(
    ("url", "domains", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", ["169.254.169.254"], "forbidden_address"),
        ("http://[fe80::1]/", ["fe80::1"], "forbidden_address"),
        ("http://224.0.0.1/", ["224.0.0.1"], "forbidden_address"),
        ("http://0/", ["0.0.0.0"], "forbidden_address"),  # noqa: S104 - a URL under test, not a bind
        ("http://10.0.0.1/", ["gov.cn"], "internal_address"),
        ("http://2130706433:8080/", ["localhost"], "internal_address"),
        ("http://[::1]/", ["gov.cn"], "internal_address"),
        ("http://127.0.0.1:9/a", ["127.0.0.1"], None),
        ("http://2130706433:9/a", ["127.0.0.1"], None),  # the same address as the one the site names
        ("http://www.samr.gov.cn/a", ["samr.gov.cn"], None),
        ("http://evil.example/a", ["samr.gov.cn"], "offsite"),
        ("http://samr.gov.cn.evil.example/a", ["samr.gov.cn"], "offsite"),
        ("file:///etc/passwd", ["samr.gov.cn"], "scheme"),
        ("ftp://www.samr.gov.cn/a", ["samr.gov.cn"], "scheme"),
        ("http://www.samr.gov.cn:99999/a", ["samr.gov.cn"], "bad_url"),
    ],
)
def test_blocked_reason(url: str, domains: list[str], reason: str | None) -> None:
    assert blocked_reason(url, domains) == reason


def test_attachments_may_be_offsite_but_never_internal() -> None:
    assert blocked_reason("http://files.example.org/a.pdf", ["samr.gov.cn"], check_domain=False) is None
    assert blocked_reason("http://0xA9FEA9FE/a.pdf", ["samr.gov.cn"], check_domain=False) == "forbidden_address"


SITES = """[sites.byname]
start_urls = [{byname}]
allowed_domains = ["localhost"]
articles = ['/art/\\w+\\.htm$']

[sites.byip]
start_urls = ["{base}/art/s1.htm", "{base}/art/s2.htm"]
allowed_domains = ["127.0.0.1"]
articles = ['/art/\\w+\\.htm$']
"""
META = '<html><head><meta http-equiv="refresh" content="0;url={}"></head><body>跳转</body></html>'


def redirect(status: int, target: str) -> dict[str, object]:
    return {"status": status, "headers": {"Location": target}, "body": ""}


def test_redirects_never_leave_the_site_nor_reach_internal_addresses(tmp_path: Path) -> None:
    foreign_root = tmp_path / "foreign"
    (foreign_root / "art").mkdir(parents=True)
    (foreign_root / "art" / "x.htm").write_text(ARTICLE, encoding="utf-8")
    root = tmp_path / "web"
    (root / "art").mkdir(parents=True)
    (root / "art" / "ok.htm").write_text(ARTICLE, encoding="utf-8")
    with MiniWeb([foreign_root]) as foreign:
        port = foreign.base.rsplit(":", 1)[1]
        by_name = {
            "r1": redirect(302, f"http://127.0.0.1:{port}/art/x.htm"),  # another host, and loopback
            "r2": redirect(302, f"http://2130706433:{port}/art/x.htm"),
            "r3": redirect(301, f"http://0x7f000001:{port}/art/x.htm"),
            "r4": {"body": META.format(f"http://127.1:{port}/art/x.htm")},
            "r5": redirect(302, "http://169.254.169.254/latest/meta-data/"),
            "r6": redirect(302, "http://2852039166/latest/meta-data/"),
            "r7": {"body": META.format("http://0xA9FEA9FE/latest/meta-data/")},
            "r8": redirect(301, "/art/ok.htm"),  # on the site: still followed
        }
        by_ip = {
            "s1": redirect(302, f"http://localhost:{port}/art/x.htm"),  # a foreign name
            "s2": {"body": META.format(f"http://localhost:{port}/art/x.htm")},
        }
        routes = {f"/art/{k}.htm": v for k, v in {**by_name, **by_ip}.items()}
        (root / "_routes.json").write_text(json.dumps(routes), encoding="utf-8")
        with serve(tmp_path, [root], SITES) as site:
            local = site.web.base.replace("127.0.0.1", "localhost")
            urls = ", ".join(f'"{local}/art/{k}.htm"' for k in by_name)
            site.config.write_text(SITES.replace("{byname}", urls).replace("{base}", site.web.base), encoding="utf-8")
            result = site.crawl(DOWNLOAD_TIMEOUT="3")
            rows = site.rows("SELECT url, final_url, outcome, reason, flags FROM fetch_log ORDER BY url")
        assert foreign.requests == []  # not the page, not its robots.txt
    got = {Path(r["url"]).stem: r for r in rows}
    for key in [k for k in by_name if k != "r8"] + list(by_ip):
        row = got[key]
        assert (row["outcome"], row["reason"]) == ("removed", "redirect_to_non_article"), row
        assert "redirect_refused" in json.loads(row["flags"]), row
        assert row["final_url"] != row["url"]
    assert got["r5"]["final_url"] == "http://169.254.169.254/latest/meta-data/"
    assert got["r8"]["outcome"] == "new"
    assert "refused request to" in result.stderr


RENDERED = """[sites.rendered]
start_urls = ["{base}/art/jsnav.htm", "{base}/art/pixel.htm"]
allowed_domains = ["127.0.0.1"]
articles = ['/art/\\w+\\.htm$']
render = "playwright"
"""


def test_the_browser_of_rendered_sites_keeps_the_boundary(tmp_path: Path) -> None:
    """Chromium follows redirects and loads subresources itself, outside Scrapy's middlewares."""
    foreign_root = tmp_path / "foreign"
    (foreign_root / "art").mkdir(parents=True)
    (foreign_root / "art" / "x.htm").write_text(ARTICLE, encoding="utf-8")
    (foreign_root / "p.gif").write_bytes(b"GIF89a")
    root = tmp_path / "web"
    (root / "art").mkdir(parents=True)
    with MiniWeb([foreign_root], host="127.0.0.2") as foreign:  # loopback, but not named by the site
        nav = f'<html><body><p>跳转中</p><script>location.href = "{foreign.base}/art/x.htm";</script></body></html>'
        (root / "art" / "jsnav.htm").write_text(nav, encoding="utf-8")
        pixel = ARTICLE.replace("</body>", f'<img src="{foreign.base}/p.gif"></body>')
        (root / "art" / "pixel.htm").write_text(pixel, encoding="utf-8")
        with serve(tmp_path, [root], RENDERED) as site:
            result = site.crawl()
        assert foreign.requests == [], result.stderr[-2000:]
    assert "browser: refused request to" in result.stderr
    assert site.rows("SELECT outcome FROM fetch_log WHERE url = ?", [site.url("/art/pixel.htm")]) == [
        {"outcome": "new"}
    ]
