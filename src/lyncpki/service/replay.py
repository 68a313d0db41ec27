"""A request body read ahead of the application, given back to it: for the fast paths that
read a body, then leave the request to the routes after all (a body over the limit, which
the route answers and audits; credentials to check again)."""

from __future__ import annotations

from starlette.types import Message, Receive


def replay(body: bytes, receive: Receive, *, more_body: bool = True) -> Receive:
    """A receive channel that gives back what was already read, then the rest (`more_body`
    False: the body was read whole, nothing follows it)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": more_body}
        return await receive()

    return replayed


__all__ = ["replay"]
