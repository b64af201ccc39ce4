"""The QMC_* settings, read once into a frozen dataclass and checked at start-up."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


class SettingsLike(Protocol):
    """The part of scrapy.settings.Settings we use (keeps this module free of Scrapy)."""

    def get(self, name: str, default: Any = None) -> Any: ...


class OptionsError(ValueError):
    """A QMC_* setting has a bad value."""


@dataclass(frozen=True)
class Options:
    """QMC_DB: database path ("" = do not store); QMC_SITES: sites.toml path;
    QMC_MIN_TEXT_CHARS: an extracted body shorter than this is thin content (js_required)."""

    db: str = "qm.db"
    sites: str = "sites.toml"
    min_text_chars: int = 20

    @classmethod
    def from_settings(cls, settings: SettingsLike) -> Options:
        """Read and validate the QMC_* settings."""
        try:
            min_chars = int(settings.get("QMC_MIN_TEXT_CHARS", cls.min_text_chars))
        except (TypeError, ValueError):
            raise OptionsError("QMC_MIN_TEXT_CHARS must be a whole number") from None
        if min_chars < 0:
            raise OptionsError("QMC_MIN_TEXT_CHARS must be >= 0")
        db = settings.get("QMC_DB", cls.db)
        sites = settings.get("QMC_SITES", cls.sites)
        return cls(db="" if db is None else str(db), sites=str(sites or cls.sites), min_text_chars=min_chars)
