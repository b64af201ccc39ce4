"""The QMC_* settings of fetching (politeness, conditional requests, attachments, traps), read once."""

from __future__ import annotations

from dataclasses import dataclass

from qmcrawler.options import OptionsError, SettingsLike, setting_bool, setting_number

#: the product token of our User-Agent, naming where a webmaster reads what this crawler is (README
#: "For webmasters"); the operator's contact is appended when QMC_CONTACT is set
USER_AGENT_BASE = (
    "qmcrawler/0.1 (change monitor for public notices of Quality Month; "
    'what it is and how it behaves: qmcrawler README, "For webmasters")'
)


@dataclass(frozen=True)
class FetchOptions:
    """QMC_CONTACT, QMC_CONDITIONAL, QMC_ATTACHMENTS, QMC_MAX_ATTACHMENTS, QMC_MAX_ATTACHMENT_BYTES,
    QMC_MAX_ARTICLES_PER_SITE, QMC_MAX_PAGE_NUMBER (documented in README.md, "Settings")."""

    contact: str = ""
    conditional: bool = True
    attachments: bool = True
    max_attachments: int = 20
    max_attachment_bytes: int = 20 * 1024 * 1024
    max_articles_per_site: int = 5000
    max_page_number: int = 500

    @classmethod
    def from_settings(cls, settings: SettingsLike) -> FetchOptions:
        """Read and validate; a bad value raises OptionsError naming the setting."""
        contact = str(settings.get("QMC_CONTACT", "") or "").strip()
        if any(c in contact for c in "\r\n()"):
            raise OptionsError("QMC_CONTACT must be one line without parentheses")
        return cls(
            contact=contact,
            conditional=setting_bool(settings, "QMC_CONDITIONAL", cls.conditional),
            attachments=setting_bool(settings, "QMC_ATTACHMENTS", cls.attachments),
            max_attachments=int(setting_number(settings, "QMC_MAX_ATTACHMENTS", cls.max_attachments)),
            max_attachment_bytes=int(
                setting_number(settings, "QMC_MAX_ATTACHMENT_BYTES", cls.max_attachment_bytes, minimum=1)
            ),
            max_articles_per_site=int(
                setting_number(settings, "QMC_MAX_ARTICLES_PER_SITE", cls.max_articles_per_site, minimum=1)
            ),
            max_page_number=int(setting_number(settings, "QMC_MAX_PAGE_NUMBER", cls.max_page_number, minimum=1)),
        )

    @property
    def user_agent(self) -> str:
        """A descriptive User-Agent: what we are and, when configured, how to reach the operator."""
        if not self.contact:
            return USER_AGENT_BASE
        return f"{USER_AGENT_BASE[:-1]}; contact: {self.contact})"
