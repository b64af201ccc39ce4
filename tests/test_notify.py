"""Notifications: one digest per target through Apprise, delivery tracked, failures retried."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlite_utils import Database

from qmcrawler.cli.main import cli
from qmcrawler.config import ConfigError, NotifyConfig, load_config
from qmcrawler.outputs.notify import build_digest, send_pending, target_key
from qmcrawler.storage import open_db, queries
from tests.changedb import page_with_edit, receiver

SITES = """
[sites.demo]
start_urls = ["http://127.0.0.1:1/news/index.html"]
articles = ['/news/a\\d+\\.html$']
"""


def test_digest_reaches_a_json_webhook_once(memdb: Database) -> None:
    page_with_edit(memdb)
    with receiver() as hook:
        results = list(send_pending(memdb, NotifyConfig(urls=(hook.url,))))
        assert [r.changes for r in results] == [1]
        assert results[0].error is None
        assert len(hook.posts) == 1
        post = hook.posts[0]
        assert post["title"] == "qmcrawler: 1 change (1 changed)"
        lines = post["message"].splitlines()
        assert lines[0] == "[changed] 关于开展2018年全国“质量月”活动的通知"
        assert lines[1].startswith("demo · ")
        assert lines[1].endswith(" · text")
        assert "[-33-]{+34+}" in lines[2]
        assert lines[-1] == "http://127.0.0.1:1/news/a1.html"
        again = list(send_pending(memdb, NotifyConfig(urls=(hook.url,))))
        assert again[0].changes == 0
        assert len(hook.posts) == 1


def test_failed_delivery_is_retried_next_run(memdb: Database) -> None:
    page_with_edit(memdb)
    with receiver() as hook:
        cfg = NotifyConfig(urls=(hook.url,), min_change="new")
        hook.status = 500
        failed = list(send_pending(memdb, cfg))
        assert failed[0].error
        assert "delivery failed" in failed[0].error
        assert hook.url not in failed[0].message  # the URL (it may hold tokens) is redacted
        change_ids = [c["id"] for c in queries.changes(memdb)]
        assert [s["status"] for s in queries.notification_status(memdb, change_ids[0])] == ["failed"]
        page_with_edit(memdb, url="http://127.0.0.1:1/news/a2.html")  # the next run finds more
        hook.status = 200
        sent = list(send_pending(memdb, cfg))
        assert sent[0].error is None
        assert sent[0].changes == 4
        assert hook.posts[-1]["title"] == "qmcrawler: 4 changes (2 changed, 2 new)"
        assert "a1.html" in hook.posts[-1]["message"]
        assert "a2.html" in hook.posts[-1]["message"]
        status = queries.notification_status(memdb, change_ids[0])
        assert status[0]["status"] == "sent"
        assert status[0]["attempts"] == 2
        assert status[0]["target"] == target_key(hook.url)


def test_filters_and_cap(memdb: Database) -> None:
    page_with_edit(memdb, relevant=False)
    page_with_edit(memdb, url="http://127.0.0.1:1/news/a2.html")
    rows = queries.pending_notifications(memdb, "t", ["changed"], relevant_only=True)
    assert [r["url"] for r in rows] == ["http://127.0.0.1:1/news/a2.html"]
    everything = queries.pending_notifications(memdb, "t", list(NotifyConfig(min_change="new").kinds), False)
    digest = build_digest(everything, NotifyConfig(max_items=1))
    assert digest.body.endswith("… and 3 more: python -m qmcrawler report -o report.html")
    assert len(digest.change_ids) == 4


def test_notify_command_dry_run_sends_and_marks_nothing(tmp_path: Path) -> None:
    db_file = tmp_path / "qm.db"
    db = open_db(db_file)
    page_with_edit(db)
    db.close()
    with receiver() as hook:
        config = tmp_path / "sites.toml"
        config.write_text(f'[notify]\nurls = ["{hook.url}"]\n' + SITES, encoding="utf-8")
        args = ["notify", "--db", str(db_file), "--config", str(config)]
        dry = CliRunner().invoke(cli, [*args, "--dry-run"])
        assert dry.exit_code == 0, dry.output
        assert "would send 1 change(s)" in dry.output
        assert "[-33-]{+34+}" in dry.output
        assert hook.posts == []
        real = CliRunner().invoke(cli, args)
        assert real.exit_code == 0, real.output
        assert "sent 1 change(s)" in real.output
        assert len(hook.posts) == 1
        hook.status = 500
        db = open_db(db_file)
        page_with_edit(db, url="http://127.0.0.1:1/news/a9.html")
        db.close()
        failed = CliRunner().invoke(cli, args)
        assert failed.exit_code == 1
        assert "kept for the next digest" in failed.output


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('urls = "mailto://x"\nmin_change = "sometimes"', "key 'min_change': must be one of new, changed"),
        ('urls = ["not a url"]', "key 'urls': not an Apprise URL"),
        ("only_relevant = 1", "key 'only_relevant': must be true or false"),
        ("max_items = 0", "key 'max_items': must be a whole number > 0"),
        ("sound = true", "key 'sound': unknown key"),
    ],
)
def test_bad_notify_config_is_one_line(tmp_path: Path, table: str, message: str) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(f"[notify]\n{table}\n" + SITES, encoding="utf-8")
    with pytest.raises(ConfigError, match="notify") as e:
        load_config(config)
    assert message in str(e.value)
    assert "\n" not in str(e.value)


def test_notify_defaults(tmp_path: Path) -> None:
    config = tmp_path / "sites.toml"
    config.write_text(SITES, encoding="utf-8")
    cfg = load_config(config).notify
    assert cfg == NotifyConfig()
    assert cfg.kinds == ("changed", "removed", "restored", "moved")
