"""Enrollments of one service process, submitted together from one thread.

Each enrollment used to go to a worker thread of its own (`run_in_threadpool`): on these
machines handing a call to a thread and the answer back costs 170-350 us of CPU, as much as
signing with an EC key, and the threads then took turns at the GIL. Here the event loop queues
the request and awaits a future; one thread takes everything queued meanwhile and submits it
with `CertificateAuthority.submit_many` (per account and template): every request is evaluated
on its own, refused ones answered with their own reasons, and the issued ones signed and stored
in one transaction. Under load the thread never sleeps and the loop is never blocked; alone, a
request waits for nothing but its own issuance. The thread ends after a second without work and
is started again by the next request.

A failure that is not a refusal (the database gone, a bug) fails the group it happened in, and
each of its requests is then submitted alone, so that one request never fails its neighbours.

A request may come with the accounts' generation its credentials were checked in (`checked_in`:
credentials the event loop remembered, `Authenticator.recall_basic`). The thread reads the
generation once for everything it took, before submitting: a request checked in another one
(an account was added or removed since) is answered CredentialsChanged, not submitted, and
its credentials are checked again by the caller. One read a batch replaced a read on the event
loop per request (SQLite's `PRAGMA data_version` and a SELECT there cost an EC enrollment about
80 us of CPU, 12%, in GIL hand-overs more than in SQLite).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from lyncpki.ca.authority import CertificateAuthority, IssueResult
from lyncpki.demand_thread import DemandThread
from lyncpki.errors import LyncPkiError

IDLE_SECONDS = 1.0  # the thread ends after this long without a request
MOST = 100  # requests submitted in one call at most (one transaction)
SOURCE = "the request"


class CredentialsChanged(Exception):
    """The accounts changed since the credentials of a queued request were checked: check
    them again before it is submitted."""


@dataclass(eq=False, slots=True)
class _Pending:
    data: bytes
    requester: str
    template: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[IssueResult]
    checked_in: int | None  # the accounts' generation its credentials were checked in
    validity_days: int | None = None  # shorter than the template's, when asked


def _resolve(
    future: asyncio.Future[IssueResult], result: IssueResult | None, error: BaseException | None
) -> None:
    if future.done():  # the client went away: its task was cancelled
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)


def _settle(
    pending: _Pending, result: IssueResult | None = None, error: BaseException | None = None
) -> None:
    # a closed loop (RuntimeError): the server stopped, nobody waits any more
    with contextlib.suppress(RuntimeError):
        pending.loop.call_soon_threadsafe(_resolve, pending.future, result, error)


class Submissions:
    """Submits the requests of a process's event loops to `ca`, several at once."""

    def __init__(
        self, ca: CertificateAuthority, generation: Callable[[], int] | None = None
    ) -> None:
        self._ca = ca
        self._generation = generation  # the accounts' generation now (AccountWatch.generation)
        self._queue: deque[_Pending] = deque()
        self._ready = threading.Condition()
        self._thread = DemandThread(self._run, "lyncpki-submissions")
        self.batches = 0  # submit_many calls made (tests read it)

    async def submit(
        self,
        data: bytes,
        *,
        requester: str,
        template: str | None,
        checked_in: int | None = None,
        validity_days: int | None = None,
    ) -> IssueResult:
        """What `ca.submit` answers for the request: the IssueResult, or its refusal raised;
        CredentialsChanged when `checked_in` is not the accounts' generation any more."""
        if checked_in is not None and self._generation is None:
            raise ValueError("checked_in needs Submissions(generation=...)")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[IssueResult] = loop.create_future()
        with self._ready:
            self._queue.append(
                _Pending(data, requester, template, loop, future, checked_in, validity_days)
            )
            if not self._thread.start_if_stopped():
                self._ready.notify()
        return await future

    def _run(self) -> None:
        while True:
            with self._ready:
                if not self._queue:
                    self._ready.wait(IDLE_SECONDS)
                    if not self._queue:
                        self._thread.stopping()
                        return
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), MOST))]
            groups: dict[tuple[str, str | None, int | None], list[_Pending]] = {}
            for pending in self._current(batch):
                key = (pending.requester, pending.template, pending.validity_days)
                groups.setdefault(key, []).append(pending)
            for (requester, template, days), group in groups.items():
                self._submit(requester, template, group, days)

    def _current(self, batch: list[_Pending]) -> list[_Pending]:
        """The requests of `batch` whose credentials still hold (one read of the generation);
        the others answered CredentialsChanged."""
        if self._generation is None or all(p.checked_in is None for p in batch):
            return batch
        try:
            now: int | None = self._generation()
        except Exception:  # the caller checks the credentials again, and says what fails
            now = None
        current = []
        for pending in batch:
            if pending.checked_in is None or pending.checked_in == now:
                current.append(pending)
            else:
                _settle(pending, error=CredentialsChanged())
        return current

    def _submit(
        self,
        requester: str,
        template: str | None,
        group: Sequence[_Pending],
        validity_days: int | None = None,
    ) -> None:
        try:
            self.batches += 1
            outcomes = self._ca.submit_many(
                [p.data for p in group],
                requester=requester,
                template=template,
                sources=[SOURCE] * len(group),
                validity_days=validity_days,
            )
        except Exception as error:
            if len(group) == 1:
                _settle(group[0], error=error)
                return
            for pending in group:  # isolate the failure: each request on its own
                self._submit(requester, template, [pending], validity_days)
            return
        for pending, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, LyncPkiError):
                _settle(pending, error=outcome)
            else:
                _settle(pending, result=outcome)


__all__ = ["CredentialsChanged", "Submissions"]
