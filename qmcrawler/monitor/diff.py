"""Readable diffs of Chinese text: sentences, not spaces, then characters inside a sentence.

Chinese has no spaces, so a whitespace tokenizer turns a paragraph into one token and a
one-digit edit into "the whole paragraph changed". We split on sentence ends (。！？； and their
width-folded forms !?; plus line breaks), align sentences with difflib, and for a pair of
similar sentences add an ndiff-style `?` line that marks the characters: `[-33-]{+34+}`.

    @@ 第3句 @@
      今年的活动以质量提升为主题。
    - 共33个部门联合开展160项活动。
    + 共34个部门联合开展166项活动。
    ? 共[-33-]{+34+}个部门联合开展[-160-]{+166+}项活动。
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from difflib import SequenceMatcher

_SENTENCE_RE = re.compile(r"[^。！？；!?;\n]*(?:[。！？；!?;]+[”’」』）)\"']*|\n|$)")
#: two sentences at least this similar are shown as one edited sentence with a `?` line
SIMILAR = 0.5
#: characters of unchanged context kept around each change on a `?` line
MARK_CONTEXT = 12


def split_sentences(text: str) -> list[str]:
    """Split text into sentences (keeping their end punctuation); blank pieces are dropped."""
    return [s.strip() for s in _SENTENCE_RE.findall(text or "") if s.strip()]


_UNIT_RE = re.compile(r"[A-Za-z0-9.%]+|.", re.DOTALL)


def _same(text: str) -> str:
    return text


def mark_chars(old: str, new: str, context: int = MARK_CONTEXT, key: Callable[[str], str] = _same) -> str:
    """Inline diff `[-deleted-]{+inserted+}` by character (numbers and Latin words kept whole).

    Units are compared by `key` (the comparison form: `，` and `,` alike) and shown as the page
    has them; unchanged runs are shown as in `new`.
    """
    a, b = _UNIT_RE.findall(old), _UNIT_RE.findall(new)
    out: list[str] = []
    ops = SequenceMatcher(None, [key(u) for u in a], [key(u) for u in b], autojunk=False).get_opcodes()
    for i, (tag, i1, i2, j1, j2) in enumerate(ops):
        if tag == "equal":
            out.append(_trim("".join(b[j1:j2]), context, first=i == 0, last=i == len(ops) - 1))
            continue
        if i2 > i1:
            out.append(f"[-{''.join(a[i1:i2])}-]")
        if j2 > j1:
            out.append(f"{{+{''.join(b[j1:j2])}+}}")
    return "".join(out)


def _trim(run: str, context: int, first: bool, last: bool) -> str:
    if first and len(run) > context:
        return "…" + run[-context:]
    if last and len(run) > context:
        return run[:context] + "…"
    if len(run) > 2 * context:
        return run[:context] + "…" + run[-context:]
    return run


def diff_text(old: str, new: str, context: int = 1, key: Callable[[str], str] = _same) -> str:
    """Sentence-level diff of two texts (sentences compared by `key`); empty string when they are equal."""
    return "\n".join(_diff_lines(split_sentences(old), split_sentences(new), context, key))


def _diff_lines(a: list[str], b: list[str], context: int, key: Callable[[str], str]) -> Iterator[str]:
    matcher = SequenceMatcher(None, [key(s) for s in a], [key(s) for s in b], autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        yield f"@@ 第{group[0][1] + 1}句 @@"
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                yield from (f"  {s}" for s in b[j1:j2])
            elif tag == "delete":
                yield from (f"- {s}" for s in a[i1:i2])
            elif tag == "insert":
                yield from (f"+ {s}" for s in b[j1:j2])
            else:
                yield from _replace(a[i1:i2], b[j1:j2], key)


def _replace(old: list[str], new: list[str], key: Callable[[str], str]) -> Iterator[str]:
    """Pair edited sentences in order; unpaired ones are plain deletions or insertions."""
    for k in range(max(len(old), len(new))):
        o = old[k] if k < len(old) else None
        n = new[k] if k < len(new) else None
        if o is not None:
            yield f"- {o}"
        if n is not None:
            yield f"+ {n}"
        if o is not None and n is not None and SequenceMatcher(None, key(o), key(n), autojunk=False).ratio() >= SIMILAR:
            yield f"? {mark_chars(o, n, key=key)}"


def diff_fields(
    old: Mapping[str, object], new: Mapping[str, object], fields: list[str], key: Callable[[str], str] = _same
) -> str:
    """A change's diff: one `-`/`+` pair per changed metadata field, then the text diff (compared by `key`)."""
    parts: list[str] = []
    for name in fields:
        if name == "text":
            continue
        before, after = _show(old.get(name)), _show(new.get(name))
        parts.append(f"- {name}: {before}\n+ {name}: {after}")
        if isinstance(old.get(name), str) and isinstance(new.get(name), str):
            parts.append(f"? {name}: {mark_chars(before, after, key=key)}")
    if "text" in fields:
        parts.append(diff_text(str(old.get("text") or ""), str(new.get("text") or ""), key=key))
    return "\n".join(p for p in parts if p)


def _show(value: object) -> str:
    if value is None or value == "":
        return "（空）"
    if isinstance(value, list | tuple):
        return "; ".join(_show(v) for v in value) or "（无）"
    if isinstance(value, dict):
        return str(value.get("name") or value.get("url") or value)
    return str(value)
