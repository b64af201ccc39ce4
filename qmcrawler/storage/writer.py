"""Writing a crawl: one transaction per download (fetch, page, version, change); run rows come from `runs.RunLog`."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from sqlite_utils import Database

from qmcrawler.extraction.article import HASHED_FIELDS
from qmcrawler.monitor.changes import CONTENT, Decision, Observation, PageState, changed_fields, decide
from qmcrawler.monitor.content import comparison_key, pack_raw, raw_hash
from qmcrawler.monitor.copies import fingerprint_text, simhash, to_hex
from qmcrawler.monitor.diff import diff_fields
from qmcrawler.monitor.revisit import Policy
from qmcrawler.storage import changediff, copylinks, frontier, grams, indexlag
from qmcrawler.storage.records import FetchRecord, utcnow
from qmcrawler.storage.runs import RunLog
from qmcrawler.textnorm import comparison_form

#: version columns stored as JSON text
_JSON_COLUMNS = ("attachments", "flags")
#: columns stored as the page shows them and compared in their comparison form
_SHOWN = ("title", "text")


class Store(RunLog):
    """Writes crawl results; every `record` call is one transaction."""

    def __init__(
        self,
        db: Database,
        revisit: Mapping[str, Policy] | None = None,
        defer_removals: bool = False,
        batch_index: bool = False,
        index_lag: int = indexlag.INDEX_LAG,
    ) -> None:
        self.db = db
        self.revisit = dict(revisit or {})  # revisit bounds by site id (default Policy())
        #: a crawl confirms removals when it ends (qmcrawler.storage.outage), not download by download
        self.defer_removals = defer_removals
        #: a crawl indexes its versions together (`commit`), `index_lag` at a time, not one by one
        self.pending = indexlag.Pending(index_lag) if batch_index else None

    def atomic(self) -> contextlib.AbstractContextManager[Any]:
        """`db.atomic()`, with the search index rows of the versions written in it (`indexlag.Pending`)."""
        return self.db.atomic() if self.pending is None else self.pending.atomic(self.db)

    def commit(self, index_all: bool = False) -> None:
        """Commit the open transaction (a crawl's batch) with its versions' index rows if due
        (`index_all`: every version still waiting, as when the crawl ends)."""
        self.db.conn.commit() if self.pending is None else self.pending.commit(self.db, everything=index_all)

    def rollback(self) -> None:
        """Roll the open transaction back, with the index rows waiting for its commit."""
        if self.pending is not None:
            self.pending.clear()
        self.db.conn.rollback()

    def record(self, rec: FetchRecord, run_id: int | None) -> str:
        """Store one download atomically; return its `fetches.outcome`."""
        with self.atomic():
            rhash = self._store_raw(rec) if rec.raw is not None and rec.kind == CONTENT else None
            page = self._resolve_page(rec, run_id)
            state = self._state(page)
            decision = decide(state, Observation(rec.kind, run_id, rec.content_hash, rhash))
            if page is None and decision.write_version:
                page = self._insert_page(rec)
            if page is not None:
                self._apply(page, rec, decision, run_id, rhash)
                if page["status"] != "moved":  # the frontier: when this page is checked next
                    policy = self.revisit.get(page["site"], Policy())
                    status = decision.status or page["status"]
                    frontier.checked(
                        self.db, page, policy, rec.fetched_at, decision.outcome, status, decision.change_kind
                    )
            _insert(
                self.db,
                "fetches",
                {
                    "page_id": page["id"] if page else None,
                    "run_id": run_id,
                    # NULL when it repeats the page's URL (most rows: see the `fetch_log` view)
                    "url": None if page and rec.url == page["url"] else rec.url,
                    "final_url": None if rec.final_url in (None, rec.url) else rec.final_url,
                    "fetched_at": rec.fetched_at,
                    "http_status": rec.http_status,
                    "outcome": decision.outcome,
                    "reason": rec.reason or None,
                    "raw_hash": rhash,
                    "encoding": rec.encoding,
                    "views": self._views(rec, page, decision.outcome),
                    "flags": json.dumps(list(rec.flags), ensure_ascii=False) if rec.flags else None,
                    "declared_encoding": rec.declared_encoding,
                },
            )
            return decision.outcome

    def record_reextraction(
        self, page_id: int, version: Mapping[str, Any], content_hash: str, run_id: int | None = None
    ) -> bool:
        """Store a re-extraction of a page's current raw HTML (reprocess).

        When the hash differs, a new version is written with a `changed` change whose `cause`
        is `extractor`, so the extractor's improvements never read as edits of the page.
        Returns True if something was written.
        """
        with self.atomic():
            page = _get(self.db, "pages", page_id)
            old = self._version(page["current_version"])
            if old is None:
                return False
            if old["content_hash"] == content_hash:
                _refresh_display(self.db, old, version)
                return False
            rec = FetchRecord(
                url=page["url"],
                site=page["site"],
                kind=CONTENT,
                version=version,
                content_hash=content_hash,
                fetched_at=old["fetched_at"],
            )
            version_id = self._insert_version(page_id, run_id, rec, old["raw_hash"])
            _update(self.db, "pages", page_id, {"current_version": version_id})
            fields, diff = _describe("changed", old, self._version(version_id))
            self._change(page_id, run_id, "changed", old["id"], version_id, fields, diff, utcnow(), cause="extractor")
            return True

    def _views(self, rec: FetchRecord, page: Mapping[str, Any] | None, outcome: str) -> int | None:
        """The download's view counter; identical raw bytes (extraction skipped) repeat the last one."""
        if rec.views is not None or outcome != "unchanged" or page is None:
            return rec.views
        rows = list(
            self.db.query(
                "SELECT views FROM fetches WHERE page_id = ? AND views IS NOT NULL ORDER BY id DESC LIMIT 1",
                [page["id"]],
            )
        )
        return int(rows[0]["views"]) if rows else None

    def _store_raw(self, rec: FetchRecord) -> str:
        body = rec.raw or b""
        h = raw_hash(body)
        self.db.execute(
            "INSERT INTO raw (hash, size, encoding, content, first_seen) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            [h, len(body), rec.encoding, pack_raw(body), rec.fetched_at],
        )
        return h

    def _page(self, url: str) -> dict[str, Any] | None:
        return next(iter(self.db.query("SELECT * FROM pages WHERE url = ?", [url])), None)

    def _insert_page(self, rec: FetchRecord) -> dict[str, Any]:
        url = rec.moved_to or rec.url
        page_id = _insert(
            self.db,
            "pages",
            {
                "url": url,
                "site": rec.site,
                "first_seen": rec.fetched_at,
                "last_seen": rec.fetched_at,
                "status": "live",
                "missing_runs": 0,
            },
        )
        return _get(self.db, "pages", page_id)

    def _resolve_page(self, rec: FetchRecord, run_id: int | None) -> dict[str, Any] | None:
        """Find the page; a permanent redirect moves its identity (history follows the page)."""
        old = self._page(rec.url)
        if not rec.moved_to or rec.moved_to == rec.url:
            return old
        new = self._page(rec.moved_to)
        if old is None:
            return new
        if new is None:
            # fetch rows that left `url` NULL meant the old URL: write it out before the page moves
            self.db.execute("UPDATE fetches SET url = ? WHERE page_id = ? AND url IS NULL", [rec.url, old["id"]])
            _update(self.db, "pages", old["id"], {"url": rec.moved_to})
            self._change(
                old["id"],
                run_id,
                "moved",
                None,
                None,
                ["url"],
                f"- url: {rec.url}\n+ url: {rec.moved_to}",
                rec.fetched_at,
            )
            return self._page(rec.moved_to)
        if old["status"] != "moved":
            _update(self.db, "pages", old["id"], {"status": "moved"})
            frontier.forget(self.db, old["id"])
            self._change(
                old["id"],
                run_id,
                "moved",
                old["current_version"],
                None,
                ["url"],
                f"- url: {rec.url}\n+ url: {rec.moved_to}",
                rec.fetched_at,
            )
        return new

    def _apply(
        self, page: dict[str, Any], rec: FetchRecord, d: Decision, run_id: int | None, rhash: str | None
    ) -> None:
        if d.change_kind == "removed" and self.defer_removals:  # the candidate waits for the end of the run
            d = replace(d, change_kind=None, status=page["status"])
        updates: dict[str, Any] = {
            "status": d.status or page["status"],
            "missing_runs": d.missing_runs,
            "last_missing_run": d.last_missing_run,
        }
        if rec.kind == CONTENT or d.outcome == "not_modified":
            updates["last_seen"] = rec.fetched_at
        if rhash is not None:
            updates["last_raw_hash"] = rhash
        old_version = self._version(page["current_version"])
        version_id: int | None = None
        if d.write_version and rec.version is not None:
            version_id = self._insert_version(page["id"], run_id, rec, rhash)
            updates["current_version"] = version_id
        _update(self.db, "pages", page["id"], updates)
        if d.change_kind:
            new_version = self._version(version_id) if version_id else None
            fields, diff = _describe(d.change_kind, old_version, new_version)
            self._change(
                page["id"],
                run_id,
                d.change_kind,
                old_version["id"] if old_version else None,
                version_id,
                fields,
                diff,
                rec.fetched_at,
            )

    def _state(self, page: Mapping[str, Any] | None) -> PageState | None:
        if page is None:
            return None
        current = self._version(page["current_version"])
        return PageState(
            status=page["status"],
            current_hash=current["content_hash"] if current else None,
            last_raw_hash=page["last_raw_hash"],
            missing_runs=page["missing_runs"] or 0,
            last_missing_run=page["last_missing_run"],
        )

    def _version(self, version_id: int | None) -> dict[str, Any] | None:
        if version_id is None:
            return None
        row = _get(self.db, "versions", version_id)
        for column in _JSON_COLUMNS:
            row[column] = json.loads(row[column]) if row[column] else []
        return row

    def _insert_version(self, page_id: int, run_id: int | None, rec: FetchRecord, rhash: str | None) -> int:
        v = dict(rec.version or {})
        row = {
            "page_id": page_id,
            "run_id": run_id,
            "fetched_at": rec.fetched_at,
            "content_hash": rec.content_hash,
            "raw_hash": rhash,
            **{
                k: v.get(k)
                for k in ("title", "publish_time", "source", "author", "editor", "doc_date", "extractor_version")
            },
            "text": v.get("text") or "",
            "is_relevant": int(bool(v.get("is_relevant"))),
            **{k: json.dumps(list(v.get(k) or []), ensure_ascii=False) for k in _JSON_COLUMNS},
            "relevance": v.get("relevance"),
            "year": v.get("year"),
            "likely_mirror": int(bool(v.get("likely_mirror") or "likely_mirror" in (v.get("flags") or ()))),
        }
        fingerprint = rec.fingerprint
        if fingerprint is None:
            fingerprint = simhash(fingerprint_text(*_comparison(v)))
        mirror = bool(row["likely_mirror"])
        copy_of = None
        if fingerprint is not None:  # copies: computed at store time (qmcrawler.storage.copylinks)
            copy_of = copylinks.canonical(self.db, fingerprint, page_id, mirror)
            row.update(simhash=to_hex(fingerprint), copy_of=copy_of)
        version_id = _insert(self.db, "versions", row)
        if self.pending is None:
            grams.index_version(self.db, version_id, *_search_forms(v))
        else:
            self.pending.add(self.db, version_id, *_search_forms(v))
        copylinks.stored(self.db, version_id, page_id, fingerprint, mirror, copy_of)
        return version_id

    def _change(
        self,
        page_id: int,
        run_id: int | None,
        kind: str,
        from_version: int | None,
        to_version: int | None,
        fields: list[str],
        diff: str | None,
        at: str,
        cause: str = "page",
    ) -> None:
        _insert(
            self.db,
            "changes",
            {
                "page_id": page_id,
                "run_id": run_id,
                "kind": kind,
                "from_version": from_version,
                "to_version": to_version,
                "fields": json.dumps(fields),
                "diff": diff,
                "detected_at": at,
                "cause": cause,
            },
        )


# The hot path writes with plain SQL: sqlite-utils' `insert`/`update`/`get` look the table up in
# sqlite_master and PRAGMA table_info on every call (17 introspection queries per download).
def _insert(db: Database, table: str, row: Mapping[str, Any]) -> int:
    """INSERT one row (table and column names come from this module, never from input); its rowid."""
    columns = ", ".join(row)
    marks = ", ".join("?" * len(row))
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING id"  # noqa: S608
    return int(db.execute(sql, list(row.values())).fetchone()[0])


def _update(db: Database, table: str, pk: int, values: Mapping[str, Any]) -> None:
    """UPDATE one row by id."""
    if values:
        sets = ", ".join(f"{column} = ?" for column in values)
        db.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*values.values(), pk])  # noqa: S608


def _get(db: Database, table: str, pk: int) -> dict[str, Any]:
    """One row by id, as a dict (KeyError when missing, like sqlite-utils' NotFoundError would be)."""
    row = next(iter(db.query(f"SELECT * FROM {table} WHERE id = ?", [pk])), None)  # noqa: S608
    if row is None:
        raise KeyError(f"{table} {pk}")
    return dict(row)


def _describe(kind: str, old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[list[str], str | None]:
    """Changed fields and the readable diff for a change row (None for a new page: made on read)."""
    if kind == "removed" or new is None:
        return [], ""
    if old is None:
        fields = changediff.new_fields(new)
        if kind == "new":  # the version holds it all (qmcrawler.storage.changediff)
            return fields, None
        return fields, diff_fields({}, new, fields)
    key = comparison_key(old, new)
    before, after = (
        {f: key(v) if f in _SHOWN and isinstance(v, str) else v for f, v in row.items()} for row in (old, new)
    )
    # an edit the hash saw but the comparison forms do not show (should not happen): list every difference
    fields = changed_fields(before, after, HASHED_FIELDS) or changed_fields(dict(old), dict(new), HASHED_FIELDS)
    return fields, diff_fields(old, new, fields, key=key)


def _comparison(version: Mapping[str, Any]) -> tuple[str | None, str]:
    """The title and text that search and copies use: the comparison forms when the record has them."""
    title = version.get("norm_title", version.get("title"))
    text = version.get("norm_text", version.get("text"))
    return title, text or ""


def _search_forms(version: Mapping[str, Any]) -> tuple[str | None, str]:
    """What the search index holds: the extractor's comparison forms, else made from the displayed text."""
    if "norm_text" in version:
        return _comparison(version)
    t2s = "t2s_applied" in (version.get("flags") or ())
    return comparison_form(version.get("title") or "", t2s), comparison_form(version.get("text") or "", t2s)


def _refresh_display(db: Database, old: Mapping[str, Any], version: Mapping[str, Any]) -> None:
    """Same content hash, newer extractor: store its displayed title/text in place (no change row).

    Versions written before the page's own characters were kept (extractor 1.2.0) show folded
    punctuation; re-extraction gives the page's `（更正）` back without a new version.
    """
    if old.get("extractor_version") == version.get("extractor_version"):
        return
    changediff.materialize(db, int(old["id"]))  # a `new` change keeps the diff it was made with
    db.execute(
        "UPDATE versions SET title = ?, text = ?, extractor_version = ? WHERE id = ?",
        [version.get("title"), version.get("text") or "", version.get("extractor_version"), old["id"]],
    )
