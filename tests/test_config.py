"""sites.toml loading: valid files become frozen Sites; bad ones fail with one line naming site and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from qmcrawler.config import ConfigError, load_config

GOOD = """
[defaults]
keywords = ["质量月", "质量强国"]
schedule = "0 6 * * *"

[sites.samr]
name = "国家市场监督管理总局"
start_urls = ["https://www.samr.gov.cn/xw/zj/"]
allowed_domains = ["samr.gov.cn"]
follow = ['/xw/zj/index_\\d+\\.html']
articles = ['/art/\\d{4}/art_\\w+\\.html']
max_list_pages = 5
schedule = "0 */6 * * *"

[sites.cqn]
start_urls = ["http://www.cqn.com.cn/ms/node_20334.htm"]
articles = ['/content/\\d{4}-\\d{2}/\\d{2}/content_\\d+\\.htm']
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sites.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    samr, cqn = config.sites["samr"], config.sites["cqn"]
    assert samr.schedule == "0 */6 * * *"
    assert cqn.schedule == "0 6 * * *"
    assert samr.keywords == ("质量月", "质量强国")
    assert cqn.name == "cqn"
    assert cqn.allowed_domains == ("www.cqn.com.cn",)
    assert samr.is_article("https://www.samr.gov.cn/xw/zj/art/2023/art_8e80bc49477042eb969f4d9c2b21b3b9.html")
    assert samr.is_list("https://www.samr.gov.cn/xw/zj/index_1.html")
    assert not samr.is_article("https://evil.example/xw/zj/art/2023/art_x.html")  # other domain
    assert samr.allows("https://sub.samr.gov.cn/x")
    assert not samr.allows("https://notsamr.gov.cn/x")
    with pytest.raises(AttributeError):
        samr.name = "x"  # type: ignore[misc]


def test_select_sites(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert [s.id for s in config.select("cqn")] == ["cqn"]
    assert [s.id for s in config.select(None)] == ["samr", "cqn"]
    assert [s.id for s in config.select("samr, cqn")] == ["samr", "cqn"]
    with pytest.raises(ConfigError, match=r"unknown site id 'nope' \(known: samr, cqn\)"):
        config.select("samr,nope")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("max_list_pages = 5", "max_list_pages = 5\nfolow = ['x']"), r"\[sites.samr\] key 'folow': unknown key"),
        (
            ("follow = ['/xw/zj/index_\\d+\\.html']", "follow = ['(unclosed']"),
            r"\[sites.samr\] key 'follow': bad regex '\(unclosed'",
        ),
        (('start_urls = ["https://www.samr.gov.cn/xw/zj/"]\n', ""), r"\[sites.samr\] key 'start_urls': missing"),
        (
            ('start_urls = ["https://www.samr.gov.cn/xw/zj/"]', 'start_urls = ["ftp://x/"]'),
            r"\[sites.samr\] key 'start_urls': not an http\(s\) URL",
        ),
        (('schedule = "0 */6 * * *"', 'schedule = "hourly"'), r"\[sites.samr\] key 'schedule'"),
        (("max_list_pages = 5", "max_list_pages = -1"), r"\[sites.samr\] key 'max_list_pages'"),
        (("max_list_pages = 5", 'render = "chrome"'), r"\[sites.samr\] key 'render'"),
        (("[sites.samr]", '[sites."SAMR!"]'), r"site id must match"),
        (("[defaults]", "[defaults]\nfoo = 1"), r"\[defaults\] key 'foo': unknown key"),
        (("[defaults]", "[default]"), r"top level key 'default': unknown key"),
        (("keywords = [", "keywords = ["), None),
    ],
)
def test_bad_config_names_site_and_key(tmp_path: Path, change: tuple[str, str], message: str | None) -> None:
    old, new = change
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    if message is None:
        load_config(write(tmp_path, text))  # the control row: an unchanged file loads
        return
    with pytest.raises(ConfigError, match=message) as info:
        load_config(write(tmp_path, text))
    assert "\n" not in str(info.value)


def test_invalid_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_config(write(tmp_path, "[sites.a\nx = 1"))
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_env_var_names_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QMC_SITES", str(write(tmp_path, GOOD)))
    assert set(load_config().sites) == {"samr", "cqn"}


def test_the_shipped_sites_toml_loads() -> None:
    config = load_config(Path(__file__).parent.parent / "sites.toml")
    assert config.sites
