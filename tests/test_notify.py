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
from tests.conftest import db_target

pytestmark = pytest.mark.both_backends

SITES = """
[sites.demo]
start_urls = ["http://127.0.0.1:1/news/index.html"]
articles = ['/news/a\\d+\\.html$']
"""


def test_digest_reaches_a_json_webhook_once(memdb: Database) -> None:
    page_with_edit(memdb)
    with receiver() as hook:
        cfg = NotifyConfig(urls=(hook.url,), min_change="changed")
        results = list(send_pending(memdb, cfg, backfill=True))
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
        again = list(send_pending(memdb, cfg, backfill=True))
        assert again[0].changes == 0
        assert len(hook.posts) == 1


def test_failed_delivery_is_retried_next_run(memdb: Database) -> None:
    page_with_edit(memdb)
    with receiver() as hook:
        cfg = NotifyConfig(urls=(hook.url,), min_change="new")
        hook.status = 500
        failed = list(send_pending(memdb, cfg, backfill=True))
        assert failed[0].error
        assert "delivery failed" in failed[0].error
        assert hook.url not in failed[0].message  # the URL (it may hold tokens) is redacted
        change_ids = [c["id"] for c in queries.changes(memdb)]
        assert [s["status"] for s in queries.notification_status(memdb, change_ids[0])] == ["failed"]
        page_with_edit(memdb, url="http://127.0.0.1:1/news/a2.html")  # the next run finds more
        hook.status = 200
        sent = list(send_pending(memdb, cfg, backfill=True))
        assert sent[0].error is None
        assert sent[0].changes == 4
        assert hook.posts[-1]["title"] == "qmcrawler: 4 changes (2 changed, 2 new)"
        assert "a1.html" in hook.posts[-1]["message"]
        assert "a2.html" in hook.posts[-1]["message"]
        status = queries.notification_status(memdb, change_ids[0])
        assert status[0]["status"] == "sent"
        assert status[0]["attempts"] == 2
        assert status[0]["target"] == target_key(hook.url)


def test_failed_backfill_is_retried_by_a_plain_run(memdb: Database) -> None:
    """`--backfill` that fails says the changes are kept for the next digest: a plain run sends them.

    They are older than where the target starts, so a plain run used to skip them for good.
    """
    page_with_edit(memdb)
    with receiver() as hook:
        cfg = NotifyConfig(urls=(hook.url,), min_change="new")
        hook.status = 500
        failed = list(send_pending(memdb, cfg, backfill=True))
        assert failed[0].changes == 2
        assert "kept for the next digest" in failed[0].message
        hook.status = 200
        plain = list(send_pending(memdb, cfg))
        assert plain[0].error is None
        assert plain[0].changes == 2
        assert hook.posts[-1]["title"] == "qmcrawler: 2 changes (1 changed, 1 new)"
        assert [r.changes for r in send_pending(memdb, cfg)] == [0]  # delivered once
        page_with_edit(memdb, url="http://127.0.0.1:1/news/a2.html")
        assert [r.changes for r in send_pending(memdb, cfg)] == [2]  # and what came after, as before


def test_filters_and_cap(memdb: Database) -> None:
    page_with_edit(memdb, relevant=False)
    page_with_edit(memdb, url="http://127.0.0.1:1/news/a2.html")
    rows = queries.pending_notifications(memdb, "t", ["changed"], relevant_only=True)
    assert [r["url"] for r in rows] == ["http://127.0.0.1:1/news/a2.html"]
    everything = queries.pending_notifications(memdb, "t", list(NotifyConfig(min_change="new").kinds), False)
    digest = build_digest(everything, NotifyConfig(max_items=1))
    assert digest.body.endswith("… and 3 more: python -m qmcrawler report -o report.html")
    assert len(digest.change_ids) == 4


def test_notify_command_dry_run_sends_and_marks_nothing(tmp_path: Path, backend: str) -> None:
    db_file = db_target(backend, tmp_path)
    db = open_db(db_file)
    page_with_edit(db)
    db.close()
    with receiver() as hook:
        config = tmp_path / "sites.toml"
        config.write_text(f'[notify]\nurls = ["{hook.url}"]\nmin_change = "changed"\n' + SITES, encoding="utf-8")
        args = ["notify", "--db", str(db_file), "--config", str(config), "--backfill"]
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
    assert cfg.kinds == ("new", "changed", "removed", "restored", "moved")  # a new notice is news


def _db_with_history(tmp_path: Path, backend: str) -> Path | str:
    db_file = db_target(backend, tmp_path)
    db = open_db(db_file)
    page_with_edit(db)  # two changes: new, changed
    db.close()
    return db_file


def _add_change(db_file: Path | str, url: str) -> None:
    db = open_db(db_file)
    page_with_edit(db, url=url)
    db.close()


def test_new_target_starts_from_now_and_backfill_sends_history(tmp_path: Path, backend: str) -> None:
    db_file = _db_with_history(tmp_path, backend)
    with receiver() as hook:
        config = tmp_path / "sites.toml"
        config.write_text(f'[notify]\nurls = ["{hook.url}"]\n' + SITES, encoding="utf-8")
        args = ["notify", "--db", str(db_file), "--config", str(config)]
        first = CliRunner().invoke(cli, args)
        assert first.exit_code == 0, first.output
        assert "nothing to send (2 earlier change(s)" in first.output
        assert hook.posts == []
        _add_change(db_file, "http://127.0.0.1:1/news/a2.html")
        later = CliRunner().invoke(cli, args)
        assert "sent 2 change(s)" in later.output, later.output
        assert all("a2.html" in c["url"] for c in hook.posts[0]["changes"])
        # the same URL with a rotated token is a new target: no backlog, until asked for it
        rotated = hook.url + "?token=new"
        config.write_text(f'[notify]\nurls = ["{rotated}"]\n' + SITES, encoding="utf-8")
        assert "nothing to send (4 earlier" in CliRunner().invoke(cli, args).output
        back = CliRunner().invoke(cli, [*args, "--backfill"])
        assert "sent 4 change(s)" in back.output, back.output
        assert len(hook.posts) == 2


def test_dry_run_checks_urls_like_a_send(tmp_path: Path, backend: str) -> None:
    db_file = _db_with_history(tmp_path, backend)
    config = tmp_path / "sites.toml"
    config.write_text('[notify]\nurls = ["foo://bar", "dingtalk://", "dingtalk://TOKEN/"]\n' + SITES, "utf-8")
    dry = CliRunner().invoke(cli, ["notify", "--db", str(db_file), "--config", str(config), "--dry-run"])
    assert dry.exit_code == 1
    lines = dry.output.splitlines()
    assert lines[0].startswith("foo://…: not a usable Apprise URL")
    assert lines[1].startswith("dingtalk://…: not a usable Apprise URL")
    assert "dingtalk://T...N/…: nothing to send" in dry.output  # Apprise's privacy form: no token shown
    assert "TOKEN" not in dry.output
    assert "some notification URLs are not usable" in dry.output


def test_json_webhook_gets_structured_changes(memdb: Database) -> None:
    page_with_edit(memdb)
    with receiver() as hook:
        results = list(send_pending(memdb, NotifyConfig(urls=(hook.url,)), backfill=True))
        assert results[0].error is None
    post = hook.posts[0]
    assert post["title"] == "qmcrawler: 2 changes (1 changed, 1 new)"
    changes = post["changes"]
    assert [c["kind"] for c in changes] == ["new", "changed"]
    edit = changes[1]
    assert set(edit) >= {"url", "site", "kind", "fields", "title", "detected_at", "diff"}
    assert edit["url"] == "http://127.0.0.1:1/news/a1.html"
    assert edit["fields"] == ["text"]
    assert edit["detected_at"].endswith("Z")  # machine field: UTC
    assert "[-33-]{+34+}" in edit["diff"]
    assert "+08:00" in post["message"]  # the human text: Beijing time


def test_targets_from_a_separate_file_and_the_environment(tmp_path: Path, backend: str) -> None:
    db_file = _db_with_history(tmp_path, backend)
    with receiver() as a, receiver() as b:
        (tmp_path / "secrets").mkdir()
        (tmp_path / "secrets" / "notify.txt").write_text(f"# team webhook\n\n{a.url}\n", encoding="utf-8")
        config = tmp_path / "sites.toml"
        config.write_text('[notify]\nurls_file = "secrets/notify.txt"\n' + SITES, encoding="utf-8")
        args = ["notify", "--db", str(db_file), "--config", str(config), "--backfill"]
        result = CliRunner().invoke(cli, args, env={"QMC_NOTIFY_URLS": b.url})
        assert result.exit_code == 0, result.output
        assert len(a.posts) == 1
        assert len(b.posts) == 1
        (tmp_path / "secrets" / "notify.txt").write_text("not-a-url\n", encoding="utf-8")
        bad = CliRunner().invoke(cli, args, env={"QMC_NOTIFY_URLS": ""})
        assert bad.exit_code == 1
        assert "notify.txt:1: not an Apprise URL" in bad.output
        (tmp_path / "secrets" / "notify.txt").write_text(f"{a.url}\n", encoding="utf-8")
        missing = CliRunner().invoke(cli, args, env={"QMC_NOTIFY_FILE": str(tmp_path / "nope.txt")})
        assert "nope.txt: notification URL file not found" in missing.output
