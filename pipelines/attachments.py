"""Stage 3b: download each attachment (size-capped), sniff its type, hash it, fold the sha256 into the version.

Attachments are fetched through the engine like Scrapy's FilesPipeline (same downloader
middlewares: robots.txt, retries, User-Agent, politeness), never through a spider callback, so
they are never parsed as HTML. A file replaced at the same URL changes its sha256, hence the
version's content hash, hence a `changed` change with field `attachments`.

Failures never invent a change: a transient failure (timeout, 5xx, block) reuses the sha256
from the last successful download; when there is none, the page fetch is logged as `failed`
(reason `attachment_failed`) and retried next run. Stable facts, recorded without sha256:
404/410 (`status`), over-size files and gzip bombs that inflate past QMC_MAX_ATTACHMENT_BYTES
(`truncated`), and links to internal or forbidden addresses (spiders/boundary.py: never requested).
"""

from __future__ import annotations

from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from sqlite_utils import Database

from qmcrawler.crawl.fetchoptions import FetchOptions
from qmcrawler.crawl.files import FileInfo, filename_from_disposition, filename_from_url, sha256, sniff_type
from qmcrawler.crawl.urls import canonical_url
from qmcrawler.items import FetchFailure, PageItem
from qmcrawler.monitor.changes import CONTENT, FAILED
from qmcrawler.monitor.content import content_hash
from qmcrawler.options import Options
from qmcrawler.storage import memo, open_db
from spiders.boundary import BoundaryRefused

GONE = (404, 410)
_TOO_LARGE = ("CancelledError", "DownloadCancelledError")


class AttachmentsPipeline:
    """Set `item.files` and put each attachment's sha256 into `item.fields["attachments"]`."""

    def __init__(self, crawler: Crawler, options: FetchOptions, db_path: str) -> None:
        self.crawler = crawler
        self.options = options
        self.db_path = db_path
        self.known: dict[str, dict[str, Any]] = {}  # files of the pages stored in this run only
        self.db: Database | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AttachmentsPipeline:
        return cls(crawler, FetchOptions.from_settings(crawler.settings), Options.from_settings(crawler.settings).db)

    def open_spider(self) -> None:
        if self.db_path:
            self.db = open_db(self.db_path)

    def close_spider(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None

    async def process_item(self, item: PageItem | FetchFailure) -> PageItem | FetchFailure:
        if (
            not isinstance(item, PageItem)
            or item.kind != CONTENT
            or item.fields is None
            or not self.options.attachments
        ):
            return item
        links = list(item.fields.get("attachments") or [])[: self.options.max_attachments]
        if self.db is not None:  # what we know of this page's files (memory bounded by the run, not history)
            wanted = [u for u in (canonical_url(str(link["url"])) for link in links) if u not in self.known]
            self.known.update(memo.files_for(self.db, wanted))
        entries = []
        for link in links:
            info, transient = await self._fetch(canonical_url(str(link["url"])))
            if transient and info.sha256 is None:
                item.kind, item.reason = FAILED, "attachment_failed"
                self._count("failed")
                return item
            remembered = self.known.get(info.url) or {}
            item.files.append(
                {
                    **info.to_dict(),
                    "seen": item.fetched_at,
                    "http_status": info.status,
                    "etag": remembered.get("etag"),
                    "last_modified": remembered.get("last_modified"),
                }
            )
            entries.append({"url": link["url"], "name": link.get("name") or info.name, "sha256": info.sha256})
        if entries != item.fields.get("attachments"):  # most pages link none: their hash stands
            item.fields["attachments"] = entries
            item.content_hash = content_hash(item.fields)
        return item

    async def _fetch(self, url: str) -> tuple[FileInfo, bool]:
        """Download one file: (what we know of it, whether the download failed transiently)."""
        old = self.known.get(url)
        headers: dict[str, str] = {}
        if old and old.get("sha256") and self.options.conditional:
            if old.get("etag"):
                headers["If-None-Match"] = old["etag"]
            if old.get("last_modified"):
                headers["If-Modified-Since"] = old["last_modified"]
        request = Request(
            url,
            headers=headers,
            meta={
                "download_maxsize": self.options.max_attachment_bytes,
                "handle_httpstatus_all": True,
                "qmc_attachment": True,
            },
        )
        assert self.crawler.engine is not None  # noqa: S101 - pipelines run inside a crawl
        try:
            response = await self.crawler.engine.download_async(request)
        except BoundaryRefused:  # an internal or forbidden address: a stable fact, never fetched
            self._count("refused")
            return FileInfo(url, filename_from_url(url), "", 0, None, None), False
        except IgnoreRequest as e:
            if _decompression_bomb(e):  # compressed under the cap, over it once inflated: as over-size
                self._count("too_large")
                return FileInfo(url, filename_from_url(url), "", 0, None, None, truncated=True), False
            return self._previous(url, old, None), True
        except Exception as e:
            if type(e).__name__ in _TOO_LARGE:
                self._count("too_large")
                return FileInfo(url, filename_from_url(url), "", 0, None, None, truncated=True), False
            return self._previous(url, old, None), True
        return self._describe(url, response, old)

    def _describe(self, url: str, response: Response, old: dict[str, Any] | None) -> tuple[FileInfo, bool]:
        status = response.status
        if status == 304 and old:
            self._count("not_modified")
            return self._previous(url, old, 304), False
        if status in GONE:
            return FileInfo(url, filename_from_url(url), "", 0, None, status), False
        if status >= 300:
            return self._previous(url, old, status), True
        body = response.body
        disposition = response.headers.get("Content-Disposition")
        name = filename_from_disposition(disposition) or filename_from_url(url)
        ctype = (response.headers.get("Content-Type") or b"").decode("latin-1")
        info = FileInfo(url, name, sniff_type(body, url, ctype), len(body), sha256(body), status)
        self._count("downloaded")
        self.known[url] = {
            **info.to_dict(),
            "etag": _h(response, "ETag"),
            "last_modified": _h(response, "Last-Modified"),
        }
        return info, False

    def _previous(self, url: str, old: dict[str, Any] | None, status: int | None) -> FileInfo:
        if not old:
            return FileInfo(url, filename_from_url(url), "", 0, None, status)
        return FileInfo(
            url,
            old.get("name") or "",
            old.get("type") or "",
            int(old.get("size") or 0),
            old.get("sha256"),
            status,
            bool(old.get("truncated")),
        )

    def _count(self, event: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(f"qmcrawler/attachments/{event}")


def _decompression_bomb(error: IgnoreRequest) -> bool:
    """Scrapy's HttpCompressionMiddleware refused a body that inflates past the size cap."""
    cause = type(error.__cause__).__name__ if error.__cause__ is not None else ""
    return cause == "_DecompressionMaxSizeExceeded" or "during decompression" in str(error)


def _h(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
