"""A site's fetch budget for one run (`max_fetches_per_run`), filled in priority order.

1. list pages (discovery): start pages and pagination, up to `max_list_pages`;
2. newly linked articles (pages the database does not know yet);
3. removal confirmations (a 404/410 seen once), then
4. the most overdue known pages (both from the frontier, in its claim order).

While the lists are being read, new articles may use the budget except the room the list pages
not yet fetched could still need; once discovery is over (the crawl went idle), whatever is left
goes to the frontier's due pages. What does not fit waits for the next run and is counted.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Budget:
    """Fetch counts of one site in one run (mutable: the spider counts as it requests)."""

    limit: int
    list_room: int  # list pages this run may fetch (max_list_pages, within the limit)
    lists: int = 0
    new: int = 0
    known: int = 0
    new_left_over: int = 0
    due: int = 0  # known pages due when discovery ended
    known_left_over: int = 0

    @classmethod
    def for_site(cls, limit: int, max_list_pages: int) -> Budget:
        """The budget of a site with `limit` fetches per run and `max_list_pages`."""
        return cls(limit=limit, list_room=min(max(max_list_pages, 0), limit))

    @property
    def used(self) -> int:
        """Fetches requested so far."""
        return self.lists + self.new + self.known

    def take_list(self, api_page: bool = False) -> bool:
        """Count one list page if it fits (list pages come first: their room is reserved).

        `api_page`: a page of a list API (JPaaS, Hanweb), which `max_list_pages` counts on its
        own, beside the start page: only the budget bounds it.
        """
        if (self.lists >= self.list_room and not api_page) or self.used >= self.limit:
            return False
        self.lists += 1
        return True

    def take_new(self) -> bool:
        """Count one newly linked article if it fits beside the room reserved for list pages."""
        reserved = max(0, self.list_room - self.lists)
        if self.used + reserved >= self.limit:
            self.new_left_over += 1
            return False
        self.new += 1
        return True

    def known_room(self) -> int:
        """Fetches left for known pages once discovery is over."""
        return max(0, self.limit - self.used)

    def took_known(self, due: int, taken: int) -> None:
        """Record the frontier's share: `due` pages were due, `taken` are requested."""
        self.due, self.known = due, self.known + taken
        self.known_left_over = max(0, due - taken)

    def stats(self) -> dict[str, int]:
        """The run's counters for this site."""
        return {
            "budget": self.limit,
            "lists": self.lists,
            "new": self.new,
            "known": self.known,
            "due": self.due,
            "left_over": self.known_left_over + self.new_left_over,
            "known_left_over": self.known_left_over,
            "new_left_over": self.new_left_over,
        }
