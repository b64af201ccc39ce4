"""The pinyin-annotation artifact `國(guó)`: detection with a dictionary reading check, and removal."""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

HAN_CLASS = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
PYCH = f"a-zü{TONED}\u0251\u0261ê"
#: One or more `(syllable)` groups right after a Han character (a run counts as one match).
ANNOT_RE = re.compile(rf"(?<=[{HAN_CLASS}])((?:\([{PYCH}]{{1,6}}\))+)")
_GROUP_RE = re.compile(rf"\(([{PYCH}]{{1,6}})\)")
#: Byte-shifted GBK mojibake next to a pinyin group: cannot be repaired, only flagged.
MOJIBAKE_RE = re.compile("[?\ufffd][a-zü\u00e0-\u01dc]{1,6}\\)")
_HAN_RUN = re.compile(f"[{HAN_CLASS}]+")
_TONED_SET = frozenset(TONED)

_DETONE = str.maketrans(
    {
        **{c: "a" for c in "āáǎà\u0251"},
        **{c: "e" for c in "ēéěèê"},
        **{c: "i" for c in "īíǐì"},
        **{c: "o" for c in "ōóǒò"},
        **{c: "u" for c in "ūúǔù"},
        **{c: "v" for c in "ǖǘǚǜü"},
        **{c: "n" for c in "ńňǹ"},
        "ḿ": "m",
        "\u0261": "g",
    }
)

#: Strip toned annotations when there are at least this many consistent hits and this share of Han.
MIN_TONED_HITS = 5
MIN_UNTONED_HITS = 8
MIN_HIT_RATIO = 0.005


def detone(syllable: str) -> str:
    """Toneless ASCII form of a syllable (`ɑ→a`, `ɡ→g`, `ü→v`)."""
    return syllable.translate(_DETONE)


@functools.cache
def _pinyin_dict() -> dict[int, str]:
    """pypinyin's character → readings table, loaded when first needed (a page with `(pinyin)` groups).

    Its module `pypinyin.pinyin_dict` is executed from its file on its own: importing it the usual
    way runs `pypinyin/__init__`, which loads the phrase dictionary and the segmenter first (0.7 s
    of CPU in every crawl process, for a table most crawls never read).
    """
    spec = importlib.util.find_spec("pypinyin")  # a top-level name: found, not imported
    places = list(spec.submodule_search_locations or []) if spec else []
    source = next((Path(p) / "pinyin_dict.py" for p in places if (Path(p) / "pinyin_dict.py").exists()), None)
    loaded = importlib.util.spec_from_file_location("qmcrawler_pinyin_dict", source) if source else None
    if loaded is None or loaded.loader is None:
        from pypinyin.pinyin_dict import pinyin_dict

        return dict(pinyin_dict)
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    return dict(module.pinyin_dict)


@functools.lru_cache(maxsize=65536)
def readings(char: str) -> frozenset[str]:
    """The toneless readings pypinyin's dictionary gives `char` (empty if unknown)."""
    raw = _pinyin_dict().get(ord(char), "")
    return frozenset(detone(r.strip()) for r in raw.split(",") if r.strip())


@dataclass(frozen=True)
class PinyinStats:
    """Counts behind the strip decision (DOMAIN.md §4.4)."""

    toned: int = 0
    untoned: int = 0
    han: int = 0
    mojibake: int = 0

    @property
    def strip_toned(self) -> bool:
        """Strip consistent toned annotations?"""
        return self.toned >= MIN_TONED_HITS and self.toned / max(self.han, 1) >= MIN_HIT_RATIO

    @property
    def strip_untoned(self) -> bool:
        """Strip consistent toneless annotations?"""
        enough = self.untoned >= MIN_UNTONED_HITS and self.untoned / max(self.han, 1) >= MIN_HIT_RATIO
        return self.strip_toned or enough

    @property
    def found(self) -> bool:
        """Is the artifact present (anything will be stripped)?"""
        return self.strip_toned or (self.strip_untoned and self.untoned > 0)


def _classify(char: str, run: str) -> str | None:
    """'toned' / 'untoned' if every group of `run` is a reading of `char`, else None."""
    groups = _GROUP_RE.findall(run)
    known = readings(char)
    if not groups or not known or any(detone(g) not in known for g in groups):
        return None
    return "toned" if any(ch in _TONED_SET for g in groups for ch in g) else "untoned"


def pinyin_stats(text: str) -> PinyinStats:
    """Count consistent toned/toneless annotations, Han characters and mojibake spans in `text`."""
    toned = untoned = 0
    if "(" in text:
        for m in ANNOT_RE.finditer(text):
            kind = _classify(text[m.start() - 1], m.group(1))
            if kind == "toned":
                toned += 1
            elif kind == "untoned":
                untoned += 1
    return PinyinStats(
        toned=toned,
        untoned=untoned,
        han=sum(map(len, _HAN_RUN.findall(text))),  # the runs found in C (qmcrawler.textnorm.t2s.han_chars)
        mojibake=len(MOJIBAKE_RE.findall(text)),
    )


def strip_pinyin(text: str, stats: PinyinStats, shown: str | None = None) -> str:
    """Remove the consistent annotations of the kinds `stats` enables (a page-level decision).

    Matching runs on `text` (width-folded). With `shown`, the same text before width folding
    (one character for one, so offsets agree), the annotations are cut from `shown` instead, so
    the page's own punctuation survives (`國（guó）` in a full-width page).
    """
    out = text if shown is None else shown
    if "(" not in text or not (stats.strip_toned or stats.strip_untoned):
        return out
    pieces: list[str] = []
    pos = 0
    for m in ANNOT_RE.finditer(text):
        kind = _classify(text[m.start() - 1], m.group(1))
        if (kind == "toned" and stats.strip_toned) or (kind == "untoned" and stats.strip_untoned):
            pieces.append(out[pos : m.start()])
            pos = m.end()
    pieces.append(out[pos:])
    return "".join(pieces)
