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
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

from lyncpki.ca.authority import CertificateAuthority, IssueResult
from lyncpki.demand_thread import DemandThread
from lyncpki.errors import LyncPkiError

IDLE_SECONDS = 1.0  # the thread ends after this long without a request
MOST = 100  # requests submitted in one call at most (one transaction)
SOURCE = "the request"


@dataclass(eq=False, slots=True)
class _Pending:
    data: bytes
    requester: str
    template: str | None
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[IssueResult]


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

    def __init__(self, ca: CertificateAuthority) -> None:
        self._ca = ca
        self._queue: deque[_Pending] = deque()
        self._ready = threading.Condition()
        self._thread = DemandThread(self._run, "lyncpki-submissions")
        self.batches = 0  # submit_many calls made (tests read it)

    async def submit(self, data: bytes, *, requester: str, template: str | None) -> IssueResult:
        """What `ca.submit` answers for the request: the IssueResult, or its refusal raised."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[IssueResult] = loop.create_future()
        with self._ready:
            self._queue.append(_Pending(data, requester, template, loop, future))
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
            groups: dict[tuple[str, str | None], list[_Pending]] = {}
            for pending in batch:
                groups.setdefault((pending.requester, pending.template), []).append(pending)
            for (requester, template), group in groups.items():
                self._submit(requester, template, group)

    def _submit(self, requester: str, template: str | None, group: Sequence[_Pending]) -> None:
        try:
            self.batches += 1
            outcomes = self._ca.submit_many(
                [p.data for p in group],
                requester=requester,
                template=template,
                sources=[SOURCE] * len(group),
            )
        except Exception as error:
            if len(group) == 1:
                _settle(group[0], error=error)
                return
            for pending in group:  # isolate the failure: each request on its own
                self._submit(requester, template, [pending])
            return
        for pending, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, LyncPkiError):
                _settle(pending, error=outcome)
            else:
                _settle(pending, result=outcome)


__all__ = ["Submissions"]
