"""The search index's documents, built with numpy, are the plain bigram sets (issue 16).

`grams.document` must give every version exactly the tokens the plain form gave (the set of
`grams_of`), or search would need a migration: each test compares it, as a string, with the
plain set sorted and joined, on real and generated pages and on the characters where Python
and SQLite disagree (astral letters, case folding that changes length, New Tai Lue vowels
unicode61 treats as separators, digits that are not ASCII, lone surrogates).
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench import sitegen
from qmcrawler.extraction import extract
from qmcrawler.extraction.encoding import decode_html
from qmcrawler.monitor.content import content_fields
from qmcrawler.storage import grams

ROOT = Path(__file__).parent.parent
PAGES = sorted((ROOT / "tests").rglob("*.htm*")) + sorted((ROOT / "qmcrawler" / "demo").rglob("*.htm*"))
#: letters, digits and separators to both sides, and characters case folding changes
TRICKY = (
    "质量月國發展ＡＢＣａｂ１２３abcXYZ09_ -，。\n\t\x00"
    "ßẞİıſKΣσςﬁŉǰ"  # casefold: to two characters, Kelvin sign, final sigma
    "\u19b0\u19b1\u19b5\u19c8ᦀᦁ"  # New Tai Lue: vowel signs are letters to Python, separators to unicode61
    "²½١٣߀௰Ⅻ〇"  # digits and numbers that are not ASCII
    "\u0301\u0308\u200b\u3000\ufeff\uffff\ufffe\ud800\udfff"  # marks, spaces, non-characters, lone surrogates
    "𠀀𪜀𝟘𝐀𐐀𐐨😀\U0010ffff\U000e0001"  # astral: CJK extensions, math letters and digits, Deseret, emoji
)
texts = st.text(alphabet=st.sampled_from(TRICKY), max_size=200)


def plain(body: str) -> str:
    """The reference: the plain bigram set, in code point order."""
    return " ".join(sorted(grams.grams_of(body)))


def fast(body: str) -> str:
    return grams._numpy_document(body.casefold())


def page_bodies(path: Path) -> list[str]:
    """What the store indexes for a page (its extracted comparison forms), and its whole decoded HTML."""
    html = decode_html(path.read_bytes(), "text/html").text
    fields = content_fields(extract(html, "http://127.0.0.1/" + path.name))
    return [grams.body_of(fields["title"], fields["text"]), html]


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_fixture_and_demo_pages(path: Path) -> None:
    for body in page_bodies(path):
        assert fast(body) == plain(body)


def test_generated_site_pages() -> None:
    for i in range(40):
        html = sitegen.article_html(i)
        fields = content_fields(extract(html, "http://127.0.0.1:8000" + sitegen.article_path(i)))
        for body in (grams.body_of(fields["title"], fields["text"]), html):
            assert fast(body) == plain(body)


@settings(max_examples=500, deadline=None)
@given(texts)
def test_tricky_characters(text: str) -> None:
    assert fast(text) == plain(text)
    assert grams.document(text) == plain(text)  # whichever way this process builds it


@pytest.mark.parametrize(
    "text",
    ["", "a", "ab", "质", "质量", "a\ud800b", "𠀀𠀁", "ß", "ẞ质", "\u19b0\u19b1", "ab ab", "AB ab Ab", "_a_", "9月9日"],
)
def test_edge_cases(text: str) -> None:
    assert fast(text) == plain(text)


def test_fts5_gets_the_same_tokens() -> None:
    """Both documents of a page give unicode61 the same vocabulary, row by row."""
    conn = sqlite3.connect(":memory:")
    vocab = {}
    for name, build in (("plain", plain), ("fast", fast)):
        conn.execute(grams.DDL.replace("search_grams", name))
        conn.execute(f"CREATE VIRTUAL TABLE {name}_vocab USING fts5vocab({name}, 'row')")
        for rowid, path in enumerate(PAGES[:20], 1):
            conn.execute(f"INSERT INTO {name} (rowid, grams) VALUES (?, ?)", [rowid, build(page_bodies(path)[0])])  # noqa: S608
        conn.execute(f"INSERT INTO {name} (rowid, grams) VALUES (999, ?)", [build(TRICKY * 2)])  # noqa: S608
        vocab[name] = conn.execute(f"SELECT term, doc FROM {name}_vocab ORDER BY term").fetchall()  # noqa: S608
    assert vocab["fast"] == vocab["plain"]
    assert len(vocab["fast"]) > 1000


def test_numpy_is_imported_only_after_the_first_versions() -> None:
    """A crawl storing a few new versions does not pay numpy's import; after `_PLAIN_FIRST` it does."""
    code = (
        "import sys\n"
        "from qmcrawler.storage import grams\n"
        "docs = [grams.document('质量月%d' % i) for i in range(grams._PLAIN_FIRST)]\n"
        "assert 'numpy' not in sys.modules\n"
        "docs.append(grams.document('质量月'))\n"
        "assert 'numpy' in sys.modules\n"
        "assert docs[0] == '月0 质量 量月' and docs[-1] == '质量 量月', docs\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_start_up_does_not_import_numpy() -> None:
    """sqlite-utils would import numpy at start-up (0.2 s of CPU) now that it is installed: `qmcrawler` blocks that."""
    code = (
        "import sys\n"
        "import qmcrawler.settings, spiders.site, pipelines.store, qmcrawler.cli.main, qmcrawler.storage\n"
        "import sqlite_utils.db\n"
        "assert 'numpy' not in sys.modules and 'pandas' not in sys.modules, 'imported at start-up'\n"
        "import numpy\n"
        "assert sqlite_utils.db.np is None and numpy.uint32(7) == 7\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
