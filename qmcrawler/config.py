"""sites.toml: the monitored sites as validated, frozen data (contract: ARCHITECTURE.md)."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from qmcrawler.patterns import PatternError, UrlPattern, compile_pattern

DEFAULT_CONFIG = "sites.toml"
RENDER_MODES = ("static", "playwright")
SITE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")

#: keys allowed in [defaults] and inherited by every site
DEFAULT_KEYS = {
    "keywords",
    "schedule",
    "render",
    "max_list_pages",
    "list",
    "revisit_min",
    "revisit_max",
    "max_fetches_per_run",
}
#: keys allowed in [sites.ID]
SITE_KEYS = DEFAULT_KEYS | {"name", "start_urls", "allowed_domains", "follow", "articles", "wait_for"}
#: list strategies (qmcrawler.crawl.listing): how list pages reveal their items
LIST_STRATEGIES = ("html", "trs", "jpaas", "hanweb")
TOP_KEYS = {"defaults", "sites", "notify"}
#: keys allowed in [notify]
NOTIFY_KEYS = {"urls", "urls_file", "only_relevant", "min_change", "diff_chars", "max_items"}
#: min_change: "new" notifies every change kind, "changed" everything but newly found pages
MIN_CHANGE_KINDS = {
    "new": ("new", "changed", "removed", "restored", "moved"),
    "changed": ("changed", "removed", "restored", "moved"),
}


#: duration units of `revisit_min` / `revisit_max` ("6h", "30d"), in seconds
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
DEFAULT_REVISIT_MIN = "1d"
DEFAULT_REVISIT_MAX = "30d"
DEFAULT_MAX_FETCHES = 500


class ConfigError(Exception):
    """A bad sites.toml or site selection; the message is one line naming the site and key."""


@dataclass(frozen=True)
class Site:
    """One monitored site: where to start, which links to follow, which pages to monitor."""

    id: str
    name: str
    start_urls: tuple[str, ...]
    allowed_domains: tuple[str, ...]
    follow: tuple[UrlPattern, ...] = ()
    articles: tuple[UrlPattern, ...] = ()
    render: str = "static"
    max_list_pages: int = 5
    schedule: str = "0 6 * * *"
    keywords: tuple[str, ...] = ("质量月",)
    list_strategy: str = "html"  # the `list` key
    wait_for: str | None = None
    revisit_min: float = DURATION_UNITS["d"]  # seconds
    revisit_max: float = 30 * DURATION_UNITS["d"]  # seconds
    max_fetches_per_run: int = DEFAULT_MAX_FETCHES

    def is_article(self, url: str) -> bool:
        """True if `url` is a page to store and monitor."""
        return self.allows(url) and any(p.search(url) for p in self.articles)

    def is_list(self, url: str) -> bool:
        """True if `url` is a list or pagination page to follow for discovery."""
        return self.allows(url) and any(p.search(url) for p in self.follow)

    def allows(self, url: str) -> bool:
        """True if the URL's host is one of `allowed_domains` or a subdomain of one."""
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:  # a page's link like `http://[::1/`
            return False
        return any(host == d or host.endswith("." + d) for d in self.allowed_domains)


@dataclass(frozen=True)
class NotifyConfig:
    """The [notify] table: Apprise URLs and which changes make a digest."""

    urls: tuple[str, ...] = ()
    only_relevant: bool = True
    min_change: str = "new"
    diff_chars: int = 300
    max_items: int = 30
    #: a file of more URLs, one a line (qmcrawler.outputs.targets), relative to the sites file
    urls_file: Path | None = None

    @property
    def kinds(self) -> tuple[str, ...]:
        """The change kinds that are notified."""
        return MIN_CHANGE_KINDS[self.min_change]


@dataclass(frozen=True)
class Config:
    """The whole sites.toml: sites by id plus the validated [notify] table."""

    path: Path
    sites: Mapping[str, Site]
    notify: NotifyConfig = field(default_factory=NotifyConfig)
    #: `[defaults] timezone`: the zone times are shown in (the database keeps UTC)
    timezone: str = "Asia/Shanghai"

    def select(self, ids: str | Iterable[str] | None) -> list[Site]:
        """Sites named by `ids` ("a,b" or a list); all sites when empty. Unknown ids raise."""
        if ids is None:
            return list(self.sites.values())
        wanted = [i.strip() for i in (ids.split(",") if isinstance(ids, str) else ids) if i.strip()]
        if not wanted:
            return list(self.sites.values())
        unknown = [i for i in wanted if i not in self.sites]
        if unknown:
            known = ", ".join(self.sites) or "none"
            raise ConfigError(f"{self.path}: unknown site id {unknown[0]!r} (known: {known})")
        return [self.sites[i] for i in wanted]


def config_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The config file to use: the argument, else env `QMC_SITES`, else ./sites.toml."""
    return Path(path or os.environ.get("QMC_SITES") or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str] | None = None) -> Config:
    """Read and validate sites.toml; raise ConfigError with a one-line message on any problem."""
    p = config_path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{p}: cannot read config: {e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{p}: invalid TOML: {e}") from None
    except RecursionError:  # tomllib recurses once per nesting level
        raise ConfigError(f"{p}: invalid TOML: nested too deeply") from None
    return parse_config(data, p)


def parse_config(data: Mapping[str, Any], path: Path) -> Config:
    """Validate already-parsed TOML data."""
    _check_keys(data, TOP_KEYS, f"{path}: top level")
    defaults = data.get("defaults", {})
    _expect(isinstance(defaults, dict), f"{path}: [defaults] must be a table")
    _check_keys(defaults, DEFAULT_KEYS | {"timezone"}, f"{path}: [defaults]")
    timezone = defaults.get("timezone", "Asia/Shanghai")  # display only: schedules stay Asia/Shanghai
    _expect(
        isinstance(timezone, str) and _known_zone(timezone),
        f"{path}: [defaults] key 'timezone': unknown time zone {timezone!r} (an IANA name such as Asia/Shanghai)",
    )
    defaults = {k: v for k, v in defaults.items() if k != "timezone"}
    raw_sites = data.get("sites", {})
    _expect(isinstance(raw_sites, dict) and bool(raw_sites), f"{path}: no [sites.ID] tables")
    sites: dict[str, Site] = {}
    for site_id, table in raw_sites.items():
        where = f"{path}: [sites.{site_id}]"
        _expect(isinstance(table, dict), f"{where} must be a table")
        _expect(bool(SITE_ID_RE.match(site_id)), f"{where}: site id must match {SITE_ID_RE.pattern}")
        _check_keys(table, SITE_KEYS, where)
        sites[site_id] = _parse_site(site_id, {**defaults, **table}, where)
    notify = data.get("notify", {})
    _expect(isinstance(notify, dict), f"{path}: [notify] must be a table")
    return Config(
        path=path, sites=sites, notify=_parse_notify(notify, f"{path}: [notify]", path.parent), timezone=timezone
    )


def _parse_notify(t: Mapping[str, Any], where: str, base: Path) -> NotifyConfig:
    _check_keys(t, NOTIFY_KEYS, where)
    urls = _str_list(t, "urls", where)
    for url in urls:
        _expect("://" in url, f"{where} key 'urls': not an Apprise URL (scheme://...): {url.split(':')[0]!r}")
    only_relevant = t.get("only_relevant", True)
    _expect(isinstance(only_relevant, bool), f"{where} key 'only_relevant': must be true or false")
    urls_file = t.get("urls_file")
    _expect(
        urls_file is None or (isinstance(urls_file, str) and bool(urls_file.strip())),
        f"{where} key 'urls_file': must be a file path",
    )
    min_change = t.get("min_change", "new")
    _expect(min_change in MIN_CHANGE_KINDS, f"{where} key 'min_change': must be one of {', '.join(MIN_CHANGE_KINDS)}")
    numbers = {}
    for key, default in (("diff_chars", 300), ("max_items", 30)):
        value = t.get(key, default)
        _expect(
            isinstance(value, int) and not isinstance(value, bool) and value > 0,
            f"{where} key {key!r}: must be a whole number > 0",
        )
        numbers[key] = value
    return NotifyConfig(
        urls=urls,
        only_relevant=only_relevant,
        min_change=min_change,
        urls_file=base / urls_file if urls_file else None,
        **numbers,
    )


def _parse_site(site_id: str, t: Mapping[str, Any], where: str) -> Site:
    start_urls = _str_list(t, "start_urls", where, required=True)
    for url in start_urls:
        _check_url(url, f"{where} key 'start_urls'")
    domains = _str_list(t, "allowed_domains", where) or tuple(
        dict.fromkeys(urlsplit(u).hostname or "" for u in start_urls)
    )
    for domain in domains:
        _expect(not any(c.isspace() for c in domain), f"{where} key 'allowed_domains': whitespace in {domain!r}")
    render = t.get("render", "static")
    _expect(render in RENDER_MODES, f"{where} key 'render': must be one of {', '.join(RENDER_MODES)}")
    max_pages = t.get("max_list_pages", 5)
    _expect(
        isinstance(max_pages, int) and not isinstance(max_pages, bool) and max_pages >= 0,
        f"{where} key 'max_list_pages': must be a whole number >= 0",
    )
    schedule = t.get("schedule", "0 6 * * *")
    _expect(
        isinstance(schedule, str) and len(schedule.split()) == 5,
        f"{where} key 'schedule': must be a 5-field cron expression, got {schedule!r}",
    )
    strategy = t.get("list", "html")
    _expect(strategy in LIST_STRATEGIES, f"{where} key 'list': must be one of {', '.join(LIST_STRATEGIES)}")
    wait_for = t.get("wait_for")
    _expect(
        wait_for is None or (isinstance(wait_for, str) and bool(wait_for.strip())),
        f"{where} key 'wait_for': must be a CSS selector string",
    )
    _expect(wait_for is None or render == "playwright", f"{where} key 'wait_for': needs render = \"playwright\"")
    name = t.get("name", site_id)
    _expect(isinstance(name, str) and bool(name.strip()), f"{where} key 'name': must be a non-empty string")
    revisit_min = _duration(t, "revisit_min", DEFAULT_REVISIT_MIN, where)
    revisit_max = _duration(t, "revisit_max", DEFAULT_REVISIT_MAX, where)
    _expect(revisit_min <= revisit_max, f"{where} key 'revisit_max': must not be shorter than revisit_min")
    budget = t.get("max_fetches_per_run", DEFAULT_MAX_FETCHES)
    _expect(
        isinstance(budget, int) and not isinstance(budget, bool) and budget >= 1,
        f"{where} key 'max_fetches_per_run': must be a whole number >= 1",
    )
    articles = _regexes(t, "articles", where)
    _expect(bool(articles), f"{where} key 'articles': at least one regex is required")
    return Site(
        id=site_id,
        name=name,
        start_urls=start_urls,
        allowed_domains=tuple(d.lower().lstrip(".") for d in domains),
        follow=_regexes(t, "follow", where),
        articles=articles,
        render=render,
        max_list_pages=max_pages,
        schedule=schedule,
        keywords=_str_list(t, "keywords", where) or ("质量月",),
        list_strategy=strategy,
        wait_for=wait_for,
        revisit_min=revisit_min,
        revisit_max=revisit_max,
        max_fetches_per_run=budget,
    )


def _check_url(url: str, where: str) -> None:
    """An http(s) URL with a host, a port in 1–65535 if any, and no whitespace."""
    _expect(not any(c.isspace() for c in url), f"{where}: whitespace in URL {url!r}")
    try:
        parts = urlsplit(url)
    except ValueError as e:
        raise ConfigError(f"{where}: bad URL {url!r}: {e}") from None
    try:
        port = parts.port
    except ValueError:  # not a number, or over 65535
        port = -1
    _expect(parts.scheme in ("http", "https") and bool(parts.hostname), f"{where}: not an http(s) URL: {url!r}")
    _expect(port is None or port > 0, f"{where}: bad URL {url!r}: port must be 1-65535")


def parse_duration(text: str) -> float:
    """Seconds in a duration such as "90m", "6h", "30d", "2w"; ValueError otherwise."""
    found = _DURATION_RE.match(text) if isinstance(text, str) else None
    if not found or float(found.group(1)) <= 0:
        raise ValueError(f"not a duration like 6h or 30d: {text!r}")
    return float(found.group(1)) * DURATION_UNITS[found.group(2)]


def _duration(t: Mapping[str, Any], key: str, default: str, where: str) -> float:
    try:
        return parse_duration(t.get(key, default))
    except ValueError as e:
        raise ConfigError(f"{where} key {key!r}: {e}") from None


def _regexes(t: Mapping[str, Any], key: str, where: str) -> tuple[UrlPattern, ...]:
    out = []
    for pattern in _str_list(t, key, where):
        try:
            out.append(compile_pattern(pattern))
        except PatternError as e:
            shown = pattern if len(pattern) <= 80 else pattern[:77] + "..."
            raise ConfigError(f"{where} key {key!r}: bad regex {shown!r}: {e} (RE2 syntax)") from None
    return tuple(out)


def _str_list(t: Mapping[str, Any], key: str, where: str, required: bool = False) -> tuple[str, ...]:
    value = t.get(key)
    if value is None:
        _expect(not required, f"{where} key {key!r}: missing (a list of strings is required)")
        return ()
    if isinstance(value, str):
        value = [value]
    _expect(
        isinstance(value, list) and all(isinstance(v, str) and v for v in value),
        f"{where} key {key!r}: must be a list of non-empty strings",
    )
    _expect(not required or bool(value), f"{where} key {key!r}: must not be empty")
    return tuple(value)


def _check_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for key in table:
        if key not in allowed:
            raise ConfigError(f"{where} key {key!r}: unknown key (allowed: {', '.join(sorted(allowed))})")


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise ConfigError(message)


def site_ids(sites: Sequence[Site]) -> str:
    """Comma-separated ids, as stored in `runs.sites`."""
    return ",".join(s.id for s in sites)
