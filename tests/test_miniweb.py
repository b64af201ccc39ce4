"""The fixture server: layers, routes, statuses, headers, GBK bytes, path safety."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from urllib.error import HTTPError

import pytest

from qmcrawler.demo.miniweb import MiniWeb


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except HTTPError as e:
        return e.code, dict(e.headers), e.read()


@pytest.fixture
def layers(tmp_path: Path) -> tuple[Path, Path]:
    base, over = tmp_path / "base", tmp_path / "over"
    (base / "news").mkdir(parents=True)
    (over / "news").mkdir(parents=True)
    (base / "news/a.html").write_text("<p>第一天</p>", encoding="utf-8")
    (base / "news/b.html").write_text("<p>不变</p>", encoding="utf-8")
    (base / "news/gbk.html").write_bytes("<p>朱镕基</p>".encode("gbk"))
    (base / "news/index.html").write_text("index", encoding="utf-8")
    (over / "news/a.html").write_text("<p>第二天</p>", encoding="utf-8")
    (base / "_routes.json").write_text(json.dumps({"/news/gbk.html": {"headers": {"Content-Type": "text/html"}}}))
    (over / "_routes.json").write_text(json.dumps({"/news/b.html": {"status": 404, "body": "页面不存在"}}))
    return base, over


def test_layers_and_routes(layers: tuple[Path, Path]) -> None:
    base, over = layers
    with MiniWeb([base]) as web:
        status, headers, body = get(web.url("/news/a.html"))
        assert (status, body.decode()) == (200, "<p>第一天</p>")
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        status, headers, body = get(web.url("/news/gbk.html"))
        assert headers["Content-Type"] == "text/html"
        assert body.decode("gb18030") == "<p>朱镕基</p>"
        assert get(web.url("/news/"))[2] == b"index"
        assert get(web.url("/nope.html"))[0] == 404
        web.set_layers([base, over])
        assert get(web.url("/news/a.html"))[2].decode() == "<p>第二天</p>"
        status, _, body = get(web.url("/news/b.html"))
        assert (status, body.decode()) == (404, "页面不存在")
        assert get(web.url("/news/gbk.html"))[1]["Content-Type"] == "text/html"  # base routes still apply
        assert web.requests.count("/news/a.html") == 2


def test_paths_cannot_escape_the_layers(layers: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / "secret.txt").write_text("secret")
    with MiniWeb([layers[0]]) as web:
        assert get(web.url("/../secret.txt"))[0] == 404
        assert get(web.url("/news/..%2F..%2Fsecret.txt"))[0] == 404
