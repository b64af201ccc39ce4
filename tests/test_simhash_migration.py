"""Migration 0015 (SQLite) / Alembic q0003 (PostgreSQL): BLAKE2b fingerprints give way to the numpy SimHash.

A database is filled by the store as a crawl fills it (reposts, a pinyin mirror found before its
clean page, a page whose text needed t2s, an edited page with an old version, a text too short
for a fingerprint), then given the fingerprints the shipped 0014 layout holds: the BLAKE2b
SimHash (`blake2b_simhash`, checked against the values it gave in tests/fixtures) in
`versions.simhash` and `simhash_bands`, the migration marked not applied. Opening it migrates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from qmcrawler.extraction.article import Article
from qmcrawler.monitor.content import content_fields, stored_text
from qmcrawler.monitor.copies import fingerprint_text, simhash, to_hex
from qmcrawler.storage import copylinks, open_db, searchindex
from qmcrawler.textnorm import comparison_form
from tests.conftest import db_target
from tests.dbtools import rows
from tests.test_copies import AQSIQ, EXTRACTION, FARM, FIXTURE, MIRROR, PEOPLE, page, reference_simhash, store_article

pytestmark = pytest.mark.both_backends

RUBY = "http://www.example.org/news/ruby.html"  # a traditional-script page: its comparison form needs t2s
SHORT = "http://www.example.org/news/short.html"
GOLDEN = Path(__file__).parent / "fixtures" / "simhash_values.json"


def blake2b_gram(gram: str) -> int:
    return int.from_bytes(hashlib.blake2b(gram.encode("utf-32-le"), digest_size=8).digest(), "big")


def blake2b_simhash(text: str) -> int | None:
    """The fingerprint of migrations 0009-0014 (extractor 1.3.0 on): BLAKE2b of each distinct 3-gram."""
    return reference_simhash(text, gram_hash=blake2b_gram)


def test_the_old_reference_gives_the_values_the_shipped_code_stored() -> None:
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    for name, case in golden.items():
        assert blake2b_simhash(case["text"]) == case["blake2b"], name
        assert (case["blake2b"] == case["simhash"]) is (case["simhash"] is None), name  # the hashes differ


def edited(article: Article) -> Article:
    """The article with a paragraph added (a publisher's correction): a new version of its page."""
    text = article.text + "\n（更正）本文第二段中的日期已更正。"
    return replace(article, text=text, norm_text=comparison_form(text, t2s=False))


def fill(db: Any) -> None:
    people = page(FIXTURE / "society.people.com.cn/n1/2018/0831/c1004-30264070.html", PEOPLE)
    mirror = page(EXTRACTION / "f06_pinyin_artifact.html", MIRROR)
    store_article(db, mirror, MIRROR, "company")  # a mirror before its page
    store_article(db, people, PEOPLE, "people")
    store_article(db, page(FIXTURE / "copies/aqsiq_2015_notice.html", AQSIQ), AQSIQ, "aqsiq")
    store_article(db, page(EXTRACTION / "f05_content_farm.html", FARM), FARM, "cjkb")
    ruby = page(EXTRACTION / "f07_ruby.html", RUBY)
    assert "t2s_applied" in ruby.flags
    store_article(db, ruby, RUBY, "ruby")
    short = replace(people, text="撤回。", norm_text="撤回。", title="通知", norm_title="通知")
    store_article(db, short, SHORT, "short")
    store_article(db, edited(people), PEOPLE, "people")  # the first version is now an old one


def comparison_fingerprints(db: Any, fingerprint: Any) -> dict[int, str | None]:
    """Each version's fingerprint of its comparison forms (what the writer hashes), by id."""
    stored = [(r["id"], r["title"], r["text"], r["flags"]) for r in rows(db, "SELECT * FROM versions ORDER BY id")]
    out = {}
    for vid, title, text in searchindex.comparison_rows(stored):
        value = fingerprint(fingerprint_text(title, text))
        out[vid] = None if value is None else to_hex(value)
    return out


def as_0014_layout(db: Any, backend: str) -> None:
    """The fingerprints as the BLAKE2b SimHash stored them (versions and band rows); 0015/q0003 not applied."""
    old = comparison_fingerprints(db, blake2b_simhash)
    current = rows(
        db, "SELECT v.id, v.page_id, v.likely_mirror FROM pages p JOIN versions v ON v.id = p.current_version"
    )
    with db.atomic():
        for vid, value in old.items():
            db.execute("UPDATE versions SET simhash = ? WHERE id = ?", [value, vid])
        for r in current:
            fingerprint = None if old[r["id"]] is None else int(str(old[r["id"]]), 16)
            copylinks.index(db, r["id"], r["page_id"], fingerprint, bool(r["likely_mirror"]))
        if backend == "sqlite":
            db.execute("DELETE FROM _sqlite_migrations WHERE name = '0015_splitmix_simhash'")
        else:
            db.execute("UPDATE alembic_version SET version_num = 'q0002'")


def snapshot(db: Any) -> dict[str, Any]:
    return {
        "versions": rows(db, "SELECT id, page_id, title, text, flags, content_hash, copy_of FROM versions ORDER BY id"),
        "simhash": {r["id"]: r["simhash"] for r in rows(db, "SELECT id, simhash FROM versions")},
        "changes": rows(db, "SELECT * FROM changes ORDER BY id"),
        "bands": sorted(tuple(r.values()) for r in rows(db, "SELECT * FROM simhash_bands")),
        "copy_of": {r["url"]: r["copy"] for r in rows(db, COPIES)},
    }


COPIES = (
    "SELECT p.url, c.url AS copy FROM pages p JOIN versions v ON v.id = p.current_version "
    "LEFT JOIN pages c ON c.id = v.copy_of"
)


def test_every_fingerprint_is_made_again_and_copy_links_stay(tmp_path: Path, backend: str) -> None:
    target = db_target(backend, tmp_path)
    db = open_db(target)
    fill(db)
    crawled = snapshot(db)  # what a crawl with today's fingerprint stores
    assert crawled["copy_of"] == {MIRROR: AQSIQ, PEOPLE: None, AQSIQ: None, FARM: PEOPLE, RUBY: AQSIQ, SHORT: None}
    assert crawled["simhash"] == comparison_fingerprints(db, reference_simhash)  # the writer's, every version
    as_0014_layout(db, backend)
    old = snapshot(db)
    db.close()
    assert old["copy_of"] == crawled["copy_of"]  # the old fingerprints linked them alike
    assert sum(old["simhash"][v] != crawled["simhash"][v] for v in old["simhash"]) == len(old["simhash"]) - 1  # SHORT

    db = open_db(target)  # migrates
    after = snapshot(db)
    db.close()
    assert after["versions"] == old["versions"]  # texts, flags, hashes and every copy link as they were
    assert after["changes"] == old["changes"]
    assert after["simhash"] == crawled["simhash"]  # old versions too
    assert after["bands"] == crawled["bands"]
    assert after["copy_of"] == crawled["copy_of"]
    assert len(after["simhash"]) == 7  # 6 pages, one of them edited: its first version is an old one


def test_relink_all_hashes_the_comparison_forms(tmp_path: Path, backend: str) -> None:
    """The displayed text of a t2s page is not what the writer hashes: relink_all gives the writer's value."""
    db = open_db(db_target(backend, tmp_path))
    ruby = page(EXTRACTION / "f07_ruby.html", RUBY)
    store_article(db, ruby, RUBY, "ruby")
    (written,) = [r["simhash"] for r in rows(db, "SELECT simhash FROM versions")]
    shown = stored_text(ruby, content_fields(ruby))
    assert to_hex(simhash(fingerprint_text(shown["title"], shown["text"])) or 0) != written  # the display differs
    db.execute("UPDATE versions SET simhash = NULL")
    copylinks.relink_all(db)
    assert [r["simhash"] for r in rows(db, "SELECT simhash FROM versions")] == [written]
    db.close()


def test_migration_on_a_database_without_versions(tmp_path: Path, backend: str) -> None:
    target = db_target(backend, tmp_path)
    db = open_db(target)
    as_0014_layout(db, backend)
    db.close()
    db = open_db(target)
    assert rows(db, "SELECT count(*) AS n FROM simhash_bands")[0]["n"] == 0
    db.close()


def test_why_copy_links_are_kept_and_not_replayed(backend: str, tmp_path: Path) -> None:
    """Replaying current versions (relink_all) reverses an original edited after its repost was stored."""
    db = open_db(db_target(backend, tmp_path))
    fill(db)
    assert snapshot(db)["copy_of"][FARM] == PEOPLE
    copylinks.relink_all(db)
    assert (snapshot(db)["copy_of"][FARM], snapshot(db)["copy_of"][PEOPLE]) == (None, FARM)
    db.close()
