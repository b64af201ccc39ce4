"""The QMC_* settings, read once into a frozen dataclass and checked at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class SettingsLike(Protocol):
    """The part of scrapy.settings.Settings we use (keeps this module free of Scrapy)."""

    def get(self, name: str, default: Any = None) -> Any: ...


class OptionsError(ValueError):
    """A QMC_* setting has a bad value."""


def setting_number(
    settings: SettingsLike, name: str, default: float, kind: type[int] | type[float] = int, minimum: float = 0
) -> float:
    """A numeric setting (whole for `kind=int`), at least `minimum`; OptionsError names it otherwise."""
    raw = settings.get(name, default)
    try:
        value = kind(raw)
    except (TypeError, ValueError):
        raise OptionsError(f"{name} must be a {'whole ' if kind is int else ''}number, not {raw!r}") from None
    if value < minimum:
        raise OptionsError(f"{name} must be >= {minimum}, not {raw!r}")
    return value


def setting_bool(settings: SettingsLike, name: str, default: bool) -> bool:
    """A boolean setting (true/false, 1/0, yes/no, on/off); OptionsError names it otherwise."""
    value: Any = settings.get(name, default)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise OptionsError(f"{name} must be true or false")


def setting_time(settings: SettingsLike, name: str) -> datetime | None:
    """An ISO 8601 time with a UTC offset (`2026-09-01T06:00:00+08:00`, `...Z`); None when unset."""
    raw = settings.get(name)
    if raw is None or not str(raw).strip():
        return None
    try:
        moment = datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise OptionsError(f"{name} must be an ISO 8601 time with offset, not {raw!r}") from None
    if moment.tzinfo is None:
        raise OptionsError(f"{name} needs a UTC offset (e.g. {raw}+08:00 or {raw}Z), not {raw!r}")
    return moment


@dataclass(frozen=True)
class Options:
    """QMC_DB: database path ("" = do not store); QMC_SITES: sites.toml path;
    QMC_MIN_TEXT_CHARS: an extracted body shorter than this is thin content (js_required);
    QMC_NOW: the crawl's clock (None: the real one)."""

    db: str = "qm.db"
    sites: str = "sites.toml"
    min_text_chars: int = 20
    now: datetime | None = None

    @classmethod
    def from_settings(cls, settings: SettingsLike) -> Options:
        """Read and validate the QMC_* settings."""
        min_chars = int(setting_number(settings, "QMC_MIN_TEXT_CHARS", cls.min_text_chars))
        db = settings.get("QMC_DB", cls.db)
        sites = settings.get("QMC_SITES", cls.sites)
        return cls(
            db="" if db is None else str(db),
            sites=str(sites or cls.sites),
            min_text_chars=min_chars,
            now=setting_time(settings, "QMC_NOW"),
        )
