"""What a server's certificate store holds, as values: personal certificates (with or without
their private key), pending requests whose keys wait for the CA's answer, trusted CA
certificates, and the assignment of certificates to Lync usages.

Assignments follow Set-CsCertificate (R-CMD-SET, R-GEN-18): each usage has a current
certificate, at most one staged certificate that becomes current at its effective date
(`-Roll -EffectiveDate`), and the previous one that still validates tokens until it expires.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field, replace
from typing import Any

from lyncpki.store.layout import KEY_ID, THUMBPRINT

FORMAT = "lyncpki.store/1"


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _text(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _spelled(value: Any, pattern: re.Pattern[str], what: str) -> str:
    """`value` as the index spells a `what` (layout's patterns); anything else (a hand-edited
    `../x`) is damage."""
    text = str(value)
    if not pattern.match(text):
        raise ValueError(f"bad {what} {text[:60]!r}")
    return text


def _thumbprint(value: Any) -> str:
    return _spelled(value, THUMBPRINT, "thumbprint")


def _key_id(value: Any) -> str:
    return _spelled(value, KEY_ID, "key id")


@dataclass(frozen=True, slots=True)
class PersonalCertificate:
    """A certificate of this server, with the id of its private key when the store has it."""

    thumbprint: str  # SHA-1, uppercase hex, as Windows shows it
    friendly_name: str
    key_id: str | None  # keys/<key_id>.key; None: the store has no private key for it
    exportable: bool
    installed_at: dt.datetime
    source: str  # ca <url> | import <file> | pfx <file>

    def as_dict(self) -> dict[str, Any]:
        return {
            "thumbprint": self.thumbprint,
            "friendly_name": self.friendly_name,
            "key_id": self.key_id,
            "exportable": self.exportable,
            "installed_at": _text(self.installed_at),
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PersonalCertificate:
        return cls(
            _thumbprint(data["thumbprint"]),
            str(data["friendly_name"]),
            None if data.get("key_id") is None else _key_id(data["key_id"]),
            bool(data["exportable"]),
            dt.datetime.fromisoformat(data["installed_at"]),
            str(data.get("source", "")),
        )


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A request made on this server whose private key waits for the certificate."""

    id: int  # local to the store
    key_id: str
    usages: tuple[str, ...]
    subject: str  # the CN asked for
    sans: tuple[str, ...]
    key: str  # the KeySpec name (rsa2048, ec-p256)
    template: str
    friendly_name: str
    exportable: bool
    created_at: dt.datetime
    ca_url: str | None = None  # an online request: the CA service it went to
    ca_request_id: int | None = None  # the CA's id of a request waiting for approval
    ca_account: str | None = None
    output: str | None = None  # an offline request: where the .req was written

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key_id": self.key_id,
            "usages": list(self.usages),
            "subject": self.subject,
            "sans": list(self.sans),
            "key": self.key,
            "template": self.template,
            "friendly_name": self.friendly_name,
            "exportable": self.exportable,
            "created_at": _text(self.created_at),
            "ca_url": self.ca_url,
            "ca_request_id": self.ca_request_id,
            "ca_account": self.ca_account,
            "output": self.output,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> PendingRequest:
        return cls(
            id=int(data["id"]),
            key_id=_key_id(data["key_id"]),
            usages=tuple(data.get("usages", ())),
            subject=str(data["subject"]),
            sans=tuple(data.get("sans", ())),
            key=str(data["key"]),
            template=str(data["template"]),
            friendly_name=str(data["friendly_name"]),
            exportable=bool(data["exportable"]),
            created_at=dt.datetime.fromisoformat(data["created_at"]),
            ca_url=data.get("ca_url"),
            ca_request_id=data.get("ca_request_id"),
            ca_account=data.get("ca_account"),
            output=data.get("output"),
        )


@dataclass(frozen=True, slots=True)
class TrustedCertificate:
    """A CA certificate this server trusts: a root (Trusted Root store) or an intermediate."""

    thumbprint: str
    subject: str
    root: bool

    def as_dict(self) -> dict[str, Any]:
        return {"thumbprint": self.thumbprint, "subject": self.subject, "root": self.root}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrustedCertificate:
        return cls(_thumbprint(data["thumbprint"]), str(data["subject"]), bool(data["root"]))


@dataclass(frozen=True, slots=True)
class Assignment:
    thumbprint: str
    assigned_at: dt.datetime
    effective: dt.datetime | None = None  # a rolled certificate: when it becomes current

    def as_dict(self) -> dict[str, Any]:
        return {
            "thumbprint": self.thumbprint,
            "assigned_at": _text(self.assigned_at),
            "effective": _text(self.effective),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Assignment | None:
        if not data:
            return None
        return cls(
            _thumbprint(data["thumbprint"]),
            dt.datetime.fromisoformat(data["assigned_at"]),
            _time(data.get("effective")),
        )


@dataclass(frozen=True, slots=True)
class UsageSlots:
    """One usage's certificates: current, staged (rolled, not yet effective), previous."""

    current: Assignment | None = None
    staged: Assignment | None = None
    previous: Assignment | None = None

    def at(self, now: dt.datetime) -> UsageSlots:
        """The slots as they stand at `now`: a staged certificate whose effective date has
        come is current, and the one it replaced is previous."""
        staged = self.staged
        if staged is None or staged.effective is None or staged.effective > now:
            return self
        return UsageSlots(current=staged, staged=None, previous=self.current or self.previous)

    @property
    def empty(self) -> bool:
        return self.current is None and self.staged is None and self.previous is None

    def thumbprints(self) -> set[str]:
        return {a.thumbprint for a in (self.current, self.staged, self.previous) if a}

    def as_dict(self) -> dict[str, Any]:
        return {
            "current": self.current.as_dict() if self.current else None,
            "staged": self.staged.as_dict() if self.staged else None,
            "previous": self.previous.as_dict() if self.previous else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> UsageSlots:
        return cls(
            Assignment.from_dict(data.get("current")),
            Assignment.from_dict(data.get("staged")),
            Assignment.from_dict(data.get("previous")),
        )


@dataclass(frozen=True, slots=True)
class KeyProtection:
    """A check value of the passphrase that protects the store's keys (scrypt), so that a key
    is never added under a different passphrase than the others."""

    salt: str
    check: str
    n: int = 2**14
    r: int = 8
    p: int = 1

    def as_dict(self) -> dict[str, Any]:
        return {"kdf": "scrypt", "salt": self.salt, "check": self.check, "n": self.n}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> KeyProtection | None:
        if not data:
            return None
        return cls(str(data["salt"]), str(data["check"]), int(data.get("n", 2**14)))


@dataclass(frozen=True, slots=True)
class StoreIndex:
    """The whole state of one store (store.json): what the files of the store mean."""

    server: str
    personal: tuple[PersonalCertificate, ...] = ()
    pending: tuple[PendingRequest, ...] = ()
    trusted: tuple[TrustedCertificate, ...] = ()
    assignments: dict[str, UsageSlots] = field(default_factory=dict)
    protection: KeyProtection | None = None
    next_request: int = 1

    def certificate(self, thumbprint: str) -> PersonalCertificate | None:
        wanted = thumbprint.upper()
        for cert in self.personal:  # a loop: no generator per lookup (check's hot path)
            if cert.thumbprint == wanted:
                return cert
        return None

    def request(self, request_id: int) -> PendingRequest | None:
        return next((r for r in self.pending if r.id == request_id), None)

    def request_at_ca(self, ca_request_id: int) -> PendingRequest | None:
        """The pending request the CA service knows by `ca_request_id`."""
        return next((r for r in self.pending if r.ca_request_id == ca_request_id), None)

    def slots(self, usage: str, now: dt.datetime) -> UsageSlots:
        return self.assignments.get(usage, UsageSlots()).at(now)

    def settled(self, now: dt.datetime) -> StoreIndex:
        """The index with every due roll applied."""
        return replace(
            self, assignments={usage: slots.at(now) for usage, slots in self.assignments.items()}
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "server": self.server,
            "next_request": self.next_request,
            "protection": self.protection.as_dict() if self.protection else None,
            "personal": [c.as_dict() for c in self.personal],
            "pending": [r.as_dict() for r in self.pending],
            "trusted": [t.as_dict() for t in self.trusted],
            "assignments": {
                usage: slots.as_dict()
                for usage, slots in sorted(self.assignments.items())
                if not slots.empty
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StoreIndex:
        # lists, not generators, into tuple(); positional arguments: `check` reads a
        # thousand indexes (a third less time than with generators and keywords)
        personal = PersonalCertificate.from_dict
        return cls(
            str(data["server"]),
            tuple([personal(c) for c in data.get("personal", [])]),
            tuple([PendingRequest.from_dict(r) for r in data.get("pending", [])]),
            tuple([TrustedCertificate.from_dict(t) for t in data.get("trusted", [])]),
            {
                str(usage): UsageSlots.from_dict(slots)
                for usage, slots in data.get("assignments", {}).items()
            },
            KeyProtection.from_dict(data.get("protection")),
            int(data.get("next_request", 1)),
        )
