"""Copies: SimHash distances on the fixtures, the band lookup, `copy_of` at store time, mirror signs."""

from __future__ import annotations

import itertools
import json
import random
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from qmcrawler.cli.main import cli
from qmcrawler.extraction import extract
from qmcrawler.extraction.article import Article
from qmcrawler.extraction.encoding import decode_html
from qmcrawler.monitor.changes import CONTENT
from qmcrawler.monitor.content import content_fields, content_hash
from qmcrawler.monitor.copies import (
    BANDS,
    GUARANTEED_DISTANCE,
    MAX_DISTANCE,
    bands,
    distance,
    fingerprint_text,
    mirror_reasons,
    official_path_on_foreign_host,
    simhash,
)
from qmcrawler.monitor.relevance import score
from qmcrawler.storage import open_db, queries
from qmcrawler.storage.copylinks import copies_of, relink_all
from qmcrawler.storage.records import FetchRecord
from qmcrawler.storage.writer import Store
from tests.conftest import db_target
from tests.sitesweb import EXPECTED, FIXTURE

EXTRACTION = Path(__file__).parent / "fixtures" / "extraction"
PEOPLE = "http://society.people.com.cn/n1/2018/0831/c1004-30264070.html"
FARM = "http://www.cjkb-news.com/cjkb/2018/0831/123.html"  # the seed 002 content farm
MIRROR = "http://www.example.com/news/show-640.aspx"  # the seed 000 company page with pinyin
AQSIQ = "http://www.aqsiq.gov.cn/xxgk_13386/zxxxgk/201508/t20150824_446510.htm"

pytestmark = pytest.mark.both_backends


def page(path: Path, url: str) -> Article:
    return extract(decode_html(path.read_bytes(), "text/html").text, url)


def fp(article: Article) -> int:
    value = simhash(fingerprint_text(article.norm_title, article.norm_text))
    assert value is not None
    return value


@pytest.fixture(scope="module")
def articles() -> dict[str, Article]:
    out = {
        "people": page(FIXTURE / "society.people.com.cn/n1/2018/0831/c1004-30264070.html", PEOPLE),
        "farm": page(EXTRACTION / "f05_content_farm.html", FARM),
        "mirror": page(EXTRACTION / "f06_pinyin_artifact.html", MIRROR),
        "aqsiq": page(FIXTURE / "copies/aqsiq_2015_notice.html", AQSIQ),
    }
    for site_id, spec in EXPECTED["sites"].items():
        for n, a in enumerate(spec["articles"]):
            path = FIXTURE / spec["host"] / a["path"].lstrip("/")
            out.setdefault(f"{site_id}-{n}", page(path, "http://x" + a["path"]))
    return out


def test_repost_and_mirror_are_near_identical(articles: dict[str, Article]) -> None:
    assert distance(fp(articles["people"]), fp(articles["farm"])) <= MAX_DISTANCE  # measured: 0
    assert distance(fp(articles["mirror"]), fp(articles["aqsiq"])) <= MAX_DISTANCE  # measured: 1


def test_an_edited_repost_is_still_a_copy(articles: dict[str, Article]) -> None:
    """A repost that drops the dateline and adds a line of its own stays within the threshold."""
    text = articles["farm"].norm_text.replace("人民网北京8月31日电(邢郑)", "")
    text += "\n(本文来源:人民网,如有侵权请联系删除)"
    edited = simhash(fingerprint_text(articles["farm"].norm_title, text))
    assert edited is not None
    assert distance(edited, fp(articles["people"])) <= MAX_DISTANCE


def test_unrelated_pages_are_far_apart(articles: dict[str, Article]) -> None:
    pairs = {
        frozenset(("people", "farm")),
        frozenset(("mirror", "aqsiq")),
        frozenset(("people", "people-0")),
        frozenset(("farm", "people-0")),
    }
    distances = [
        distance(fp(articles[a]), fp(articles[b]))
        for a, b in itertools.combinations(articles, 2)
        if frozenset((a, b)) not in pairs
    ]
    assert min(distances) > 2 * MAX_DISTANCE  # measured: 17 (median 30)


def test_bands_catch_every_pair_within_the_threshold() -> None:
    rng = random.Random(7)  # noqa: S311 - test data, not cryptography
    for _ in range(2000):
        a = rng.getrandbits(64)
        b = a
        for bit in rng.sample(range(64), rng.randint(0, GUARANTEED_DISTANCE)):
            b ^= 1 << bit
        assert any(x == y for x, y in zip(bands(a), bands(b), strict=True))
    assert sum(width for _, width in BANDS) == 64


def test_short_texts_get_no_fingerprint() -> None:
    assert simhash("通知") is None


KEPT = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaffA-Za-z0-9]+")
MASK = (1 << 64) - 1


def gram_hash(gram: str) -> int:
    """splitmix64 of the gram's key (its 3 code points, 21 bits each), one Python int at a time."""
    z = ((ord(gram[0]) << 42 | ord(gram[1]) << 21 | ord(gram[2])) + 0x9E3779B97F4A7C15) & MASK
    z = ((z ^ z >> 30) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ z >> 27) * 0x94D049BB133111EB) & MASK
    return z ^ z >> 31


def reference_simhash(text: str, gram_hash: Any = gram_hash) -> int | None:
    """The SimHash as a plain loop: one hash per distinct gram of the kept characters, votes added bit by bit."""
    chars = "".join(KEPT.findall(text))
    if len(chars) < 40:
        return None
    grams = {chars[i : i + 3] for i in range(len(chars) - 2)}
    votes = [0] * 64
    for gram in grams:
        value = gram_hash(gram)
        for k in range(64):
            votes[k] += 1 if value >> k & 1 else -1
    return sum(1 << k for k in range(64) if votes[k] > 0)


def test_fingerprints_keep_the_stored_values() -> None:
    """Stored `versions.simhash` values stay comparable: the same texts give the values the plain
    loop computed when tests/fixtures/simhash_values.json was written (`simhash`; `blake2b` holds
    what the BLAKE2b fingerprint of migrations 0009-0014 gave, for tests/test_simhash_migration.py)."""
    golden = json.loads((Path(__file__).parent / "fixtures" / "simhash_values.json").read_text(encoding="utf-8"))
    assert len(golden) >= 8
    for name, case in golden.items():
        assert simhash(case["text"]) == case["simhash"], name
        assert reference_simhash(case["text"]) == case["simhash"], name


#: kept characters and some that are not: punctuation, full width, beyond the BMP, U+FFFF, U+4DC0 (between ranges)
ALPHABET = "质量月检测标准的一是在不了ab9Z，。 \n國Ａ１𠀀\U0010ffff\uffff\u4dc0"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(ALPHABET), max_size=400))
def test_fingerprint_equals_the_per_gram_loop(text: str) -> None:
    assert simhash(text) == reference_simhash(text)


@pytest.mark.parametrize("grams", [38, 254, 255, 256, 1020, 1021, 2041, 5000, 30000])
def test_fingerprint_equals_the_per_gram_loop_on_long_texts(grams: int) -> None:
    """Pages of many grams: one or several 255-gram chunks and blocks of 4 chunks, the last partly filled."""
    distinct = "".join(chr(0x4E00 + i) for i in range(grams + 2))  # exactly `grams` distinct grams
    assert simhash(distinct) == reference_simhash(distinct) is not None
    rng = random.Random(grams)  # noqa: S311 - test data
    alphabet = [chr(c) for c in range(0x4E00, 0x4E00 + 300)] + list("ab9Z，。 \n")
    text = "".join(rng.choice(alphabet) for _ in range(grams + 40))  # repeated grams vote once
    assert simhash(text) == reference_simhash(text) is not None


def store_article(db: Database, article: Article, url: str, site: str, **record: Any) -> str:
    fields = content_fields(article)
    result = score(fields["title"], fields["text"], publish_time=fields["publish_time"])
    version: dict[str, Any] = {
        **fields,
        "is_relevant": result.is_relevant,
        "relevance": result.score,
        "year": result.year,
        "flags": list(article.flags),
        "editor": article.editor,
        "doc_date": article.doc_date,
        "extractor_version": "test",
        "likely_mirror": bool(mirror_reasons(url, fields["title"], fields["text"], article.flags)),
    }
    rec = FetchRecord(
        url=url,
        site=site,
        kind=CONTENT,
        http_status=200,
        version=version,
        content_hash=content_hash(fields),
        raw=url.encode(),
        encoding="utf-8",
        **record,
    )
    return Store(db).record(rec, None)


def current(db: Database, url: str) -> dict[str, Any]:
    return next(
        iter(
            db.query(
                "SELECT v.*, p.id AS pid FROM pages p JOIN versions v ON v.id = p.current_version WHERE p.url = ?",
                [url],
            )
        )
    )


def test_repost_links_to_the_original_and_is_not_a_new_notice(
    memdb: Database, articles: dict[str, Article], tmp_path: Path
) -> None:
    store_article(memdb, articles["people"], PEOPLE, "people")
    store_article(memdb, articles["farm"], FARM, "cjkb")
    original, repost = current(memdb, PEOPLE), current(memdb, FARM)
    assert original["copy_of"] is None
    assert repost["copy_of"] == original["pid"]
    assert len(repost["simhash"]) == 16
    kinds = {(c["url"], c["kind"], c["copy_of"]) for c in queries.changes(memdb)}
    assert kinds == {(PEOPLE, "new", None), (FARM, "new", original["pid"])}  # the change exists, marked
    pending = queries.pending_notifications(memdb, "t", ["new"], relevant_only=True)
    assert [p["url"] for p in pending] == [PEOPLE]
    assert [c["url"] for c in copies_of(memdb, original["pid"])] == [FARM]


def test_mirror_found_first_is_repointed_to_the_clean_copy(memdb: Database, articles: dict[str, Article]) -> None:
    store_article(memdb, articles["mirror"], MIRROR, "company")
    mirror = current(memdb, MIRROR)
    assert mirror["likely_mirror"] == 1
    assert mirror["copy_of"] is None  # nothing to copy yet
    store_article(memdb, articles["aqsiq"], AQSIQ, "aqsiq")
    clean = current(memdb, AQSIQ)
    assert clean["copy_of"] is None  # a clean page never becomes the copy of a mirror
    assert current(memdb, MIRROR)["copy_of"] == clean["pid"]
    assert [p["url"] for p in queries.pending_notifications(memdb, "t", ["new"])] == [AQSIQ]


def test_changes_output_shows_the_copy(tmp_path: Path, backend: str, articles: dict[str, Article]) -> None:
    target = str(db_target(backend, tmp_path))
    db = open_db(target)
    store_article(db, articles["people"], PEOPLE, "people")
    store_article(db, articles["farm"], FARM, "cjkb")
    db.close()
    runner = CliRunner()
    rows = [json.loads(line) for line in runner.invoke(cli, ["changes", "--db", target, "--json"]).output.splitlines()]
    farm = next(r for r in rows if r["url"] == FARM)
    assert (farm["copy_of_url"], farm["year"], farm["is_relevant"]) == (PEOPLE, 2018, True)
    text = runner.invoke(cli, ["changes", "--db", target], env={"COLUMNS": "250"}).output
    assert f"repost: copy of page 1 {PEOPLE}" in text


@pytest.mark.parametrize(
    ("url", "foreign"),
    [
        ("http://www.zhijian-kuaixun.com/xw/zj/art/2018/art_8e80bc49477042eb969f4d9c2b21b3b9.html", True),
        ("https://www.samr.gov.cn/xw/zj/art/2018/art_8e80bc49477042eb969f4d9c2b21b3b9.html", False),
        ("http://big5.www.gov.cn/gate/big5/www.gov.cn/xinwen/2018-08/31/content_5318048.htm", False),
        ("http://m.caijing-kb.net/n1/2018/0831/c1004-30264070.html", True),
        ("http://127.0.0.1:8000/xw/zj/201809/t20180903_275900.html", False),
        ("http://www.example.com/news/show-640.aspx", False),
    ],
)
def test_official_path_on_a_foreign_host(url: str, foreign: bool) -> None:
    assert official_path_on_foreign_host(url) is foreign


def test_mirror_reasons() -> None:
    assert mirror_reasons("http://a.example/x.html", "质量月活动", "正文", ("pinyin_artifact",)) == ["pinyin_artifact"]
    spam = mirror_reasons("http://a.example/x.html", "百家乐 娱乐城 质量月活动", "正文")
    assert spam == ["spam_words"]
    assert mirror_reasons("https://www.gov.cn/xinwen/2018-08/31/content_5318048.htm", "质量月", "正文") == []


def test_stock_phrases_repeated_on_unrelated_pages_do_not_make_them_copies() -> None:
    """Each distinct 3-gram votes once: boilerplate repeated dozens of times cannot outvote the text."""
    stock = "进一步扎实推进质量提升行动，不断加强市场监管工作，全面落实主体责任。" * 40
    rng = random.Random(7)  # noqa: S311 - test data
    han = [chr(c) for c in range(0x4E00, 0x4E00 + 3000)]
    fingerprints = []
    for _ in range(6):
        own = "".join(rng.choice(han) for _ in range(300))  # each page's own text
        value = simhash(fingerprint_text("关于开展质量月活动的通知", own + stock))
        assert value is not None
        fingerprints.append(value)
    closest = min(distance(a, b) for a, b in itertools.combinations(fingerprints, 2))
    assert closest > MAX_DISTANCE


def test_relink_all_recomputes_fingerprints_bands_and_links(memdb: Database, articles: dict[str, Article]) -> None:
    store_article(memdb, articles["mirror"], MIRROR, "company")
    store_article(memdb, articles["people"], PEOPLE, "people")
    store_article(memdb, articles["aqsiq"], AQSIQ, "aqsiq")
    store_article(memdb, articles["farm"], FARM, "cjkb")
    stored = {
        url: (current(memdb, url)["simhash"], current(memdb, url)["copy_of"]) for url in (MIRROR, PEOPLE, AQSIQ, FARM)
    }
    bands_before = sorted(memdb.execute("SELECT * FROM simhash_bands").fetchall())
    memdb.execute("UPDATE versions SET simhash = 'ffffffffffffffff', copy_of = NULL")  # as an old database might be
    memdb.execute("DELETE FROM simhash_bands")
    assert relink_all(memdb) == 2
    assert {url: (current(memdb, url)["simhash"], current(memdb, url)["copy_of"]) for url in stored} == stored
    assert sorted(memdb.execute("SELECT * FROM simhash_bands").fetchall()) == bands_before
    assert stored[FARM][1] == current(memdb, PEOPLE)["pid"]
    assert stored[MIRROR][1] == current(memdb, AQSIQ)["pid"]


def test_the_extraction_worker_fingerprint_is_the_one_the_store_would_compute(tmp_path: Path, backend: str) -> None:
    """The worker computes the SimHash beside extraction; it must equal the store's own computation."""
    from pipelines.extract import extract_and_fingerprint

    path = FIXTURE / "society.people.com.cn/n1/2018/0831/c1004-30264070.html"
    article, fingerprint, _ = extract_and_fingerprint(decode_html(path.read_bytes(), "text/html").text, PEOPLE)
    assert fingerprint is not None
    computed = open_db(db_target(backend, tmp_path, "a.db"))
    store_article(computed, article, PEOPLE, "people")  # no fingerprint on the record: the store computes it
    assert current(computed, PEOPLE)["simhash"] == f"{fingerprint:016x}"
    given = open_db(db_target(backend, tmp_path, "b.db"))
    store_article(given, article, PEOPLE, "people", fingerprint=fingerprint ^ 1)  # the record's value is used
    assert current(given, PEOPLE)["simhash"] == f"{fingerprint ^ 1:016x}"


def test_numpy_is_imported_by_the_first_fingerprint_not_by_opening_a_database(tmp_path: Path) -> None:
    """A crawl's main process (settings, spiders, pipelines, the store) and the CLI do not import numpy;
    sqlite-utils would, when it is installed (qmcrawler/__init__.py hides it from sqlite_utils.db)."""
    code = (
        "import sys, qmcrawler.settings, spiders.site, spiders.revisits, pipelines.store, qmcrawler.cli.main\n"
        "from qmcrawler.storage import open_db\n"
        f"open_db({str(tmp_path / 'qm.db')!r}).close()\n"
        "import sqlite_utils.db\n"
        "assert 'numpy' not in sys.modules and sqlite_utils.db.np is None, sorted(sys.modules)\n"
        "from qmcrawler.monitor.copies import simhash\n"
        "assert simhash('质量月活动' * 20) is not None and 'numpy' in sys.modules\n"
        "import numpy\n"
        "print(numpy.uint64(7))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert (done.returncode, done.stdout) == (0, "7\n"), done.stderr[-2000:]
