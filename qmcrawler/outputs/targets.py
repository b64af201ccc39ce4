"""Where notification URLs come from: `[notify] urls`, a separate file, environment variables.

Tokens and passwords need not sit in a version-controlled sites.toml: put the URLs in a file
outside the repository (`[notify] urls_file`, or env `QMC_NOTIFY_FILE`; one URL a line, `#`
comments, the plain-text form of an Apprise config file) or in env `QMC_NOTIFY_URLS`
(separated by whitespace). All sources add up; a URL named twice is one target.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from qmcrawler.config import ConfigError, NotifyConfig

ENV_URLS = "QMC_NOTIFY_URLS"
ENV_FILE = "QMC_NOTIFY_FILE"


def notify_urls(cfg: NotifyConfig, environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Every configured notification URL, in order: sites.toml, its urls_file, QMC_NOTIFY_FILE, QMC_NOTIFY_URLS."""
    env = os.environ if environ is None else environ
    urls = list(cfg.urls)
    files = [cfg.urls_file] if cfg.urls_file else []
    if env.get(ENV_FILE, "").strip():
        files.append(Path(env[ENV_FILE].strip()))
    for path in files:
        urls += read_urls_file(path)
    for url in env.get(ENV_URLS, "").split():
        _check(url, f"env {ENV_URLS}")
        urls.append(url)
    return tuple(dict.fromkeys(urls))


def read_urls_file(path: Path) -> list[str]:
    """The URLs of a notification file: one a line; blank lines and `#` comments skipped."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: notification URL file not found") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: cannot read notification URL file: {e}") from None
    urls = []
    for n, line in enumerate(text.splitlines(), start=1):
        url = line.strip()
        if url and not url.startswith("#"):
            _check(url, f"{path}:{n}")
            urls.append(url)
    return urls


def _check(url: str, where: str) -> None:
    if "://" not in url:
        raise ConfigError(f"{where}: not an Apprise URL (scheme://...): {url.split(':')[0][:40]!r}")
