"""URL patterns of sites.toml (`articles`, `follow`) compiled with RE2: matching time is linear in the URL.

A site's own pages choose the URLs these patterns are matched against, so a backtracking
engine lets one page hang a crawl: `(a+)+$` against `/x/aaaa…a!` takes 2^n steps in Python's
`re`. RE2 (google-re2, Google's linear-time engine) never backtracks, so no pattern and no URL
can do that; it also caps a pattern's compiled size (`max_mem`) and nesting, so a 5,000-group
regex is one error line, not a RecursionError.

What differs from Python's `re` (README "sites.toml" documents it): no backreferences (`\\1`)
and no lookaround (`(?=…)`, `(?!…)`, `(?<=…)`, `(?<!…)`): such a pattern is rejected when
sites.toml is loaded; `\\d`, `\\w`, `\\s` and `\\b` are ASCII-only (percent-encoded URLs are
ASCII anyway); `$` matches only at the very end (Python's also before a final newline).
Everything else a URL pattern uses (classes, `(?i)`, `(?P<name>…)`, `{m,n}`, alternation)
is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import re2

#: URLs longer than this never match (no real article URL is near it; RE2 is linear anyway)
MAX_URL_CHARS = 8192


class PatternError(ValueError):
    """A pattern RE2 cannot compile; the message says why, in one line."""


def _options() -> Any:
    options = re2.Options()
    options.log_errors = False  # the error is raised, not also printed by the C++ library
    return options


@dataclass(frozen=True)
class UrlPattern:
    """One compiled `articles` / `follow` pattern; `search(url)` like `re.Pattern.search`, as a bool."""

    pattern: str
    _regex: Any = field(compare=False, repr=False)

    def search(self, url: str) -> bool:
        """True if the pattern matches somewhere in `url`.

        Matched as UTF-8 bytes against the pattern compiled from its UTF-8 bytes (RE2 reads both
        as UTF-8 either way): the same answer as with `str`, without the wrapper's conversion of
        byte offsets back to character offsets, which made a call 11 µs instead of 4.
        """
        return len(url) <= MAX_URL_CHARS and self._regex.search(url.encode("utf-8", "surrogatepass")) is not None


def compile_pattern(pattern: str) -> UrlPattern:
    """Compile `pattern` with RE2; raise PatternError on what RE2 cannot (or will not) run."""
    try:
        return UrlPattern(pattern, re2.compile(pattern.encode("utf-8", "surrogatepass"), _options()))
    except re2.error as e:
        detail = e.args[0] if e.args else e
        message = detail.decode("utf-8", "replace") if isinstance(detail, bytes) else str(detail)
        raise PatternError(message.splitlines()[0] if message else "not a valid RE2 pattern") from None
