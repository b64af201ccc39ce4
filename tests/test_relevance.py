"""Quality Month relevance: the score, `is_relevant` and the campaign year, on the seeds and the site fixtures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from qmcrawler.cli.main import cli
from qmcrawler.monitor.relevance import campaign_year, score, theme_year
from qmcrawler.storage import open_db
from qmcrawler.textnorm import normalize_text
from tests.changedb import record
from tests.conftest import db_target

pytestmark = pytest.mark.both_backends

SEEDS = Path(__file__).parent / "fixtures" / "extraction"


def seed(name: str) -> tuple[str, str]:
    lines = [
        line.strip() for line in normalize_text((SEEDS / name).read_text(encoding="utf-8")).splitlines() if line.strip()
    ]
    title = next(line for line in lines if "质量月" in line)
    return title, "\n".join(lines[lines.index(title) + 1 :])


def test_seed_000_is_the_2015_campaign() -> None:
    title, text = seed("seed_000.txt")
    result = score(title, text, publish_time="2015-08-24T12:55:35+08:00")
    assert result.is_relevant
    assert result.year == 2015  # `20159月` is corrupted; the 2015 theme 迈向质量时代 建设质量强国 names the year
    assert theme_year(text) == 2015
    assert campaign_year(text) is None


def test_seed_002_is_the_2018_campaign() -> None:
    title, text = seed("seed_002.txt")
    result = score(title, text, publish_time="2018-08-31T16:40:36+08:00")
    assert result.is_relevant
    assert result.year == 2018
    assert result.score >= 15  # title, body (many times), theme, year, 质量强国, 质量提升, 主题 line


@pytest.mark.parametrize(
    ("title", "text", "relevant", "year"),
    [
        ("关于开展2022年全国“质量月”活动的通知", "各地区要广泛开展活动。", True, 2022),
        ("广东省市场监督管理局关于开展2019年广东省“质量月”活动的通知", "", True, 2019),
        ("全省质量宣传咨询活动走进社区", "以“加强市场监管 建设质量强国”为主题开展宣传。", True, 2018),  # theme only
        ("质量发展局召开产业集群质量提升现场推进会", "推动质量提升,建设质量强国。", False, None),  # everyday news
        ("電梯維護保養檢查", "", False, None),
    ],
)
def test_score_table(title: str, text: str, relevant: bool, year: int | None) -> None:
    result = score(title, text)
    assert (result.is_relevant, result.year) == (relevant, year)


def test_publish_year_when_the_text_names_none() -> None:
    result = score(
        "全省“质量月”质量宣传咨询活动走进社区", "现场提供计量器具免费检定。", publish_time="2022-09-20T15:02:00+08:00"
    )
    assert result.year == 2022
    assert score("今天的新闻", "", publish_time="2022-09-20").year is None  # not relevant: no year


def test_score_ranks_title_hits_above_body_mentions() -> None:
    assert score("2023年“质量月”活动启动", "质量月").score > score("工作动态", "开展质量月活动。").score > 0


def test_site_keywords_replace_the_default() -> None:
    assert score("品牌日活动", "中国品牌日", keywords=("品牌日",)).is_relevant
    assert not score("品牌日活动", "中国品牌日").is_relevant


def test_changes_json_shows_year_and_relevant_filter(tmp_path: Path, backend: str) -> None:
    target = db_target(backend, tmp_path)
    db = open_db(target)
    record(db, "http://127.0.0.1/a.html", "关于开展2019年全国“质量月”活动的通知", "各地区要广泛开展活动。")
    record(db, "http://127.0.0.1/b.html", "食品安全抽检", "抽检结果公告。", relevant=False)
    db.execute("UPDATE versions SET year = 2019, relevance = 12 WHERE is_relevant = 1")
    db.conn.commit()
    runner = CliRunner()
    rows = [
        json.loads(line) for line in runner.invoke(cli, ["changes", "--db", str(target), "--json"]).output.splitlines()
    ]
    assert {r["url"]: r["year"] for r in rows} == {"http://127.0.0.1/a.html": 2019, "http://127.0.0.1/b.html": None}
    assert all("copy_of" in r for r in rows)
    relevant = runner.invoke(cli, ["changes", "--db", str(target), "--json", "--relevant"]).output
    assert [json.loads(line)["url"] for line in relevant.splitlines()] == ["http://127.0.0.1/a.html"]
    text = runner.invoke(cli, ["changes", "--db", str(target), "--relevant"]).output
    assert "质量月 2019" in text
