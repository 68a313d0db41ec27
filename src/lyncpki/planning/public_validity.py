"""How long a publicly trusted TLS certificate may be valid, by the day it is issued: the
CA/Browser Forum's Baseline Requirements (ballot SC-081v3, 2025) cut it from 398 days to 200
on 2026-03-15, 100 on 2027-03-15 and 47 on 2029-03-15. A public CA (the Edge's external
certificate, the reverse proxy's) issues no longer, whatever a request or a plan says; an
internal CA is not bound by it."""

from __future__ import annotations

import datetime as dt

SCHEDULE: tuple[tuple[dt.date, int], ...] = (
    (dt.date(2029, 3, 15), 47),
    (dt.date(2027, 3, 15), 100),
    (dt.date(2026, 3, 15), 200),
)
BEFORE = 398  # before the first step (since 2020-09-01)
SOURCE = "CA/Browser Forum Baseline Requirements, ballot SC-081v3"


def public_max_days(on: dt.date) -> int:
    """The longest validity a public CA may give a TLS certificate issued `on`."""
    for start, days in SCHEDULE:
        if on >= start:
            return days
    return BEFORE


def next_step(on: dt.date) -> tuple[dt.date, int] | None:
    """The next cut after `on` (its date and days), or None after the last one."""
    later = [(start, days) for start, days in SCHEDULE if start > on]
    return min(later) if later else None
