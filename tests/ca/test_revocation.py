"""Revocation and CRLs, judged by openssl: a revoked certificate fails `openssl verify
-crl_check`, full and delta CRLs parse and say what RFC 5280 requires, the delta lists only what
was revoked after its base, and serials are accepted as openssl prints them.

Every test here has a CA of its own (fresh_ca): revocations never leak into another test.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import time
from pathlib import Path

import pytest
from ca_tools import (
    PASSPHRASE,
    assert_verifies,
    ca_file,
    colon_serial_of,
    crl_number,
    crl_pem,
    crl_text,
    extension_block,
    make_ca,
    openssl,
    openssl_req,
    run_openssl,
    serial_of,
    verify,
    write_pem,
)
from sqlalchemy import event

from lyncpki.ca import database as db
from lyncpki.ca.authority import CaError, CertificateAuthority
from lyncpki.ca.crl import Reason
from lyncpki.ca.home import CaHome
from lyncpki.errors import LyncPkiError
from lyncpki.x509.identifiers import serial_windows


def issue(ca: CertificateAuthority, work: Path, name: str) -> Path:
    request = openssl_req(work, subject=f"/CN={name}", sans=[name])
    result = ca.submit(request, requester="test")
    assert result.certificate is not None
    return write_pem(work, f"{name}.pem", result.certificate)


def revoked_serials(crl: Path) -> list[str]:
    """The serials openssl lists under `Revoked Certificates:` (uppercase hex)."""
    text = crl_text(crl)
    if "No Revoked Certificates." in text:
        return []
    return re.findall(r"Serial Number: ([0-9A-F]+)", text)


def assert_crl_signed_by(crl: Path, issuer: Path) -> None:
    process = run_openssl("crl", "-in", crl, "-noout", "-CAfile", issuer)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "verify OK" in process.stdout + process.stderr


@pytest.mark.external
def test_revoked_certificate_fails_openssl_crl_check(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    ca = fresh_ca
    cert = issue(ca, work, "fe01.corp-test.se")
    crls = [crl_pem(ca)]
    assert_verifies(ca, cert, flags=["-crl_check"], crls=crls)

    ca.revoke(serial_of(cert), reason=Reason.KEY_COMPROMISE, actor="test")
    assert_verifies(ca, cert, flags=["-crl_check"], crls=crls)  # not published yet
    ca.publish_crl(actor="test")

    process = verify(ca, cert, flags=["-crl_check"], crls=crls)
    assert process.returncode != 0
    assert "certificate revoked" in process.stdout + process.stderr
    process = verify(ca, cert, flags=["-crl_check_all"], crls=[*crls, crl_pem(ca, root=True)])
    assert process.returncode != 0
    assert "certificate revoked" in process.stdout + process.stderr
    # the certificate itself is still a good signature: only the CRL rejects it
    assert_verifies(ca, cert)

    entry = next(e for e in ca.audit_log() if e["action"] == "revoke")
    assert (entry["target"], entry["outcome"]) == (serial_of(cert).lower(), "ok")


@pytest.mark.external
def test_full_and_delta_crls(fresh_ca: CertificateAuthority, work: Path) -> None:
    ca = fresh_ca
    a = issue(ca, work, "a.corp-test.se")
    b = issue(ca, work, "b.corp-test.se")
    c = issue(ca, work, "c.corp-test.se")
    full, delta = crl_pem(ca), crl_pem(ca, delta=True)
    first_full, first_delta = crl_number(full), crl_number(delta)  # published by create()

    ca.revoke(serial_of(a), reason=Reason.KEY_COMPROMISE, actor="test")
    ca.publish_crl(actor="test")
    ca.revoke(serial_of(b), reason=Reason.SUPERSEDED, actor="test")
    ca.publish_crl(actor="test", delta=True)

    full_text, delta_text = crl_text(full), crl_text(delta)
    assert revoked_serials(full) == [serial_of(a)]
    assert revoked_serials(delta) == [serial_of(b)]  # only what came after the base
    assert_crl_signed_by(full, ca_file(ca, "issuing"))
    assert_crl_signed_by(delta, ca_file(ca, "issuing"))
    # the DER files at the CDP path are the same CRLs
    assert crl_text(ca.home.crl_file(ca.config.slug)) == full_text
    assert crl_text(ca.home.crl_file(ca.config.slug, delta=True)) == delta_text

    # numbers increase; the delta names its base
    base_number, delta_number = crl_number(full), crl_number(delta)
    assert first_full < first_delta < base_number < delta_number
    indicator = extension_block(delta_text, "X509v3 Delta CRL Indicator:")
    assert indicator.splitlines()[0].strip() == "X509v3 Delta CRL Indicator: critical"
    assert indicator.splitlines()[1].strip() == str(base_number)
    assert "Freshest CRL" not in delta_text

    freshest = extension_block(full_text, "X509v3 Freshest CRL:")
    urls = re.findall(r"URI:(\S+)", freshest)
    assert urls == [f"{ca.config.base_url}/crl/{ca.home.crl_file(ca.config.slug, delta=True).name}"]
    assert "Delta CRL Indicator" not in full_text

    # reasons as openssl names them
    entry_a = extension_block(full_text, f"Serial Number: {serial_of(a)}")
    assert "Key Compromise" in entry_a
    assert "Superseded" in extension_block(delta_text, f"Serial Number: {serial_of(b)}")

    # openssl with the base CRL alone: A revoked, B still good; with the delta: both revoked
    for cert, revoked_by_base in ((a, True), (b, False), (c, False)):
        process = verify(ca, cert, flags=["-crl_check"], crls=[full])
        assert (process.returncode != 0) is revoked_by_base, process.stdout + process.stderr
    # -extended_crl: without it OpenSSL 3.0 may take a delta CRL newer than its base for the
    # base itself (get_crl_score skips deltas only with extended CRL support), and then
    # misses what only the base lists.
    deltas = ["-crl_check", "-use_deltas", "-extended_crl"]
    for cert, revoked in ((a, True), (b, True), (c, False)):
        process = verify(ca, cert, flags=deltas, crls=[full, delta])
        assert (process.returncode != 0) is revoked, process.stdout + process.stderr
        if revoked:
            assert "certificate revoked" in process.stdout + process.stderr


@pytest.mark.external
def test_a_new_base_restarts_the_delta(fresh_ca: CertificateAuthority, work: Path) -> None:
    ca = fresh_ca
    a = issue(ca, work, "a.corp-test.se")
    b = issue(ca, work, "b.corp-test.se")
    numbers = [crl_number(crl_pem(ca))]
    ca.revoke(serial_of(a), actor="test")
    ca.publish_crl(actor="test", delta=True)
    numbers.append(crl_number(crl_pem(ca, delta=True)))
    assert revoked_serials(crl_pem(ca, delta=True)) == [serial_of(a)]
    ca.publish_crl(actor="test")
    numbers.append(crl_number(crl_pem(ca)))
    ca.publish_crl(actor="test", delta=True)
    numbers.append(crl_number(crl_pem(ca, delta=True)))
    assert revoked_serials(crl_pem(ca, delta=True)) == []  # A is in the new base
    assert revoked_serials(crl_pem(ca)) == [serial_of(a)]
    ca.revoke(serial_of(b), actor="test")
    ca.publish_crl(actor="test", delta=True)
    numbers.append(crl_number(crl_pem(ca, delta=True)))
    assert revoked_serials(crl_pem(ca, delta=True)) == [serial_of(b)]
    assert numbers == sorted(set(numbers))  # strictly increasing
    # unspecified: RFC 5280 says omit the reason code
    assert "CRL Reason Code" not in crl_text(crl_pem(ca))


@pytest.mark.external
def test_root_crl(fresh_ca: CertificateAuthority) -> None:
    ca = fresh_ca
    before = crl_number(crl_pem(ca, root=True))
    ca.publish_crl(actor="test", root=True)
    assert crl_number(crl_pem(ca, root=True)) > before
    assert_crl_signed_by(crl_pem(ca, root=True), ca_file(ca, "root"))
    assert revoked_serials(crl_pem(ca, root=True)) == []
    with pytest.raises(CaError, match="full CRLs only"):
        ca.publish_crl(actor="test", root=True, delta=True)


@pytest.mark.external
def test_revoking_twice_is_an_error(fresh_ca: CertificateAuthority, work: Path) -> None:
    cert = issue(fresh_ca, work, "fe01.corp-test.se")
    fresh_ca.revoke(serial_of(cert), actor="test")
    with pytest.raises(CaError, match="already revoked"):
        fresh_ca.revoke(serial_of(cert), reason=Reason.KEY_COMPROMISE, actor="test")
    fresh_ca.publish_crl(actor="test")
    assert revoked_serials(crl_pem(fresh_ca)) == [serial_of(cert)]
    assert "CRL Reason Code" not in crl_text(crl_pem(fresh_ca))  # the first reason stands


def _short_busy_timeout(ca: CertificateAuthority) -> None:
    """Make SQLite give up on a lock after 0.2 s instead of 30 s (keeps a deadlock short)."""
    ca.engine.dispose()

    @event.listens_for(ca.engine, "connect")
    def _pragma(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA busy_timeout=200")
        cursor.close()


def test_unknown_serial_is_an_error(fresh_ca: CertificateAuthority) -> None:
    _short_busy_timeout(fresh_ca)
    with pytest.raises(CaError, match="no certificate with serial 0123456789abcdef"):
        fresh_ca.revoke("01:23:45:67:89:ab:cd:ef", actor="test")
    entry = fresh_ca.audit_log()[0]
    assert (entry["action"], entry["outcome"]) == ("revoke", "refused")


def test_revoking_the_root_says_it_is_the_root(fresh_ca: CertificateAuthority) -> None:
    """`ca revoke <root serial>` said "no certificate with serial ..." while `ca show` listed
    it: a self-signed root cannot be revoked, and the fix is what to do instead."""
    root = format(fresh_ca.root.certificate.serial_number, "x")
    with pytest.raises(CaError) as refused:
        fresh_ca.revoke(root, reason="cACompromise", actor="test")
    assert "is the root CA's own certificate" in refused.value.message
    assert refused.value.fix and "trusted roots" in refused.value.fix
    entry = fresh_ca.audit_log()[0]
    assert (entry["action"], entry["outcome"]) == ("revoke", "refused")
    assert fresh_ca.certificate(root)[0]["status"] == "valid"


def test_unknown_serial_lookup_is_an_error(fresh_ca: CertificateAuthority) -> None:
    with pytest.raises(CaError, match="no certificate with serial"):
        fresh_ca.certificate("01:23:45:67:89:ab:cd:ef")
    with pytest.raises(LyncPkiError, match="is not a serial number"):
        fresh_ca.revoke("not-a-serial", actor="test")


@pytest.mark.external
def test_serial_as_openssl_prints_it(fresh_ca: CertificateAuthority, work: Path) -> None:
    ca = fresh_ca
    cert = issue(ca, work, "fe01.corp-test.se")
    colon = colon_serial_of(cert)  # 30:26:86:... as in openssl x509 -text
    assert ":" in colon
    row, found = ca.certificate(colon)
    assert row["status"] == "valid"
    assert format(found.serial_number, "X").zfill(len(serial_of(cert))) == serial_of(cert)
    ca.certificate(colon.upper())  # as Windows and openssl -serial show hex: any case

    result = ca.revoke(colon, reason=Reason.KEY_COMPROMISE, actor="test")
    assert result["serial"] == colon.replace(":", "")
    ca.publish_crl(actor="test")
    assert revoked_serials(crl_pem(ca)) == [serial_of(cert)]
    assert ca.certificate(serial_of(cert))[0]["status"] == "revoked"


@pytest.mark.external
def test_windows_serial_is_the_byte_reversed_openssl_serial(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    cert = issue(fresh_ca, work, "fe01.corp-test.se")
    openssl_serial = serial_of(cert)
    reversed_bytes = bytes.fromhex(openssl_serial)[::-1].hex()
    assert serial_windows(int(openssl_serial, 16)) == reversed_bytes
    assert reversed_bytes != openssl_serial.lower()


@pytest.mark.external
def test_crl_files_are_published_as_der_and_pem(fresh_ca: CertificateAuthority) -> None:
    ca = fresh_ca
    for delta in (False, True):
        der = ca.home.crl_file(ca.config.slug, delta=delta)
        pem = ca.home.crl_file(ca.config.slug, delta=delta, pem=True)
        assert der.read_bytes()[:1] == b"\x30"
        assert pem.read_bytes().startswith(b"-----BEGIN X509 CRL-----")
        converted = openssl("crl", "-in", der, "-inform", "DER", "-outform", "PEM")
        assert converted == pem.read_text("ascii")


def delta_base(crl: Path) -> int:
    """The base CRL number a delta names (its Delta CRL Indicator), as openssl prints it."""
    block = extension_block(crl_text(crl), "X509v3 Delta CRL Indicator:")
    return int(block.splitlines()[1].strip())


@pytest.mark.external
def test_a_full_crl_is_published_with_a_fresh_delta(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """Publishing a full CRL left the delta of the previous base in place: the delta served
    (#2, base 1) was older than the full CRL served (#3), and OpenSSL ignores a delta whose
    number is not above its base's. Each full CRL now comes with a delta based on it."""
    ca = fresh_ca
    a = issue(ca, work, "a.corp-test.se")
    b = issue(ca, work, "b.corp-test.se")
    c = issue(ca, work, "c.corp-test.se")
    full, delta = crl_pem(ca), crl_pem(ca, delta=True)
    assert delta_base(delta) == crl_number(full) < crl_number(delta)  # as ca init made them

    ca.revoke(serial_of(a), actor="test")
    ca.publish_crl(actor="test", delta=True)
    assert revoked_serials(delta) == [serial_of(a)]
    info = ca.publish_crl(actor="test")  # the full CRL: a fresh delta comes with it
    assert info.delta_crl is not None and info.delta_crl.base_number == info.number
    assert crl_number(full) == info.number
    assert crl_number(delta) == info.delta_crl.number > crl_number(full)
    assert delta_base(delta) == crl_number(full)
    assert revoked_serials(full) == [serial_of(a)] and revoked_serials(delta) == []
    assert_crl_signed_by(delta, ca_file(ca, "issuing"))
    # what openssl concludes from the two files published (see the README for -extended_crl)
    deltas = ["-crl_check", "-use_deltas", "-extended_crl"]
    refused = verify(ca, a, flags=deltas, crls=[full, delta])
    assert refused.returncode != 0 and "certificate revoked" in refused.stdout + refused.stderr
    assert_verifies(ca, b, flags=deltas, crls=[full, delta])

    ca.revoke(serial_of(b), actor="test")
    ca.publish_crl(actor="test", delta=True)
    assert delta_base(delta) == crl_number(full)
    for cert, revoked in ((a, True), (b, True), (c, False)):
        process = verify(ca, cert, flags=deltas, crls=[full, delta])
        assert (process.returncode != 0) is revoked, process.stdout + process.stderr
    # the root publishes full CRLs only, and no delta with them
    assert ca.publish_crl(actor="test", root=True).delta_crl is None
    assert not ca.home.crl_file(ca.config.root_slug, delta=True).exists()


@pytest.mark.external
def test_crl_numbers_continue_above_the_published_ones(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """A CRL is numbered above the CRLs in the home as well as those in the database: a
    database behind the published files (restored from an older backup) numbered its next CRL
    below the one served, and `ca crl` said "published" while the file kept the old one."""
    ca = fresh_ca
    a = issue(ca, work, "a.corp-test.se")
    for _ in range(3):
        ca.publish_crl(actor="test")
    served = crl_number(crl_pem(ca, delta=True))
    with ca.writer.begin() as conn:  # the database as an older backup left it
        conn.execute(db.crls.delete().where(db.crls.c.number > 2))
    ca.revoke(serial_of(a), actor="test")
    info = ca.publish_crl(actor="test")
    assert info.written and info.number == served + 1 == crl_number(crl_pem(ca))
    assert revoked_serials(crl_pem(ca)) == [serial_of(a)]
    assert info.delta_crl is not None and info.delta_crl.written
    assert crl_number(crl_pem(ca, delta=True)) == info.number + 1


@pytest.mark.external
def test_the_root_revokes_the_issuing_ca(fresh_ca: CertificateAuthority, work: Path) -> None:
    """`ca revoke` of the issuing CA's own serial said "no certificate with serial": a
    compromised issuing CA could not be put on the root's CRL, and every relying party kept
    trusting it. It is listed there now, openssl refuses its leaves with -crl_check_all, and
    the CA signs nothing more."""
    ca = fresh_ca
    cert = issue(ca, work, "fe01.corp-test.se")
    ca.publish_crl(actor="test")
    crls = [crl_pem(ca), crl_pem(ca, root=True)]
    assert_verifies(ca, cert, flags=["-crl_check_all"], crls=crls)
    issuing = ca_file(ca, "issuing")
    result = ca.revoke(serial_of(issuing), reason=Reason.CA_COMPROMISE, actor="test")
    assert result["issuing_ca"] is True and result["ca"] == ca.config.root_slug
    ca.publish_crl(actor="test", root=True)
    assert serial_of(issuing) in revoked_serials(crl_pem(ca, root=True))
    assert "CA Compromise" in crl_text(crl_pem(ca, root=True))
    assert_crl_signed_by(crl_pem(ca, root=True), ca_file(ca, "root"))
    process = verify(ca, cert, flags=["-crl_check_all"], crls=crls)
    assert process.returncode != 0 and "certificate revoked" in process.stdout + process.stderr
    with pytest.raises(CaError) as refused:
        issue(ca, work, "fe02.corp-test.se")
    assert "is revoked" in refused.value.message and "ca init" in (refused.value.fix or "")
    reopened = CertificateAuthority.open(ca.home, PASSPHRASE)  # and in the next process
    try:
        with pytest.raises(CaError):
            issue(reopened, work, "fe03.corp-test.se")
    finally:
        reopened.engine.dispose()


@pytest.mark.external
def test_a_hold_is_released_or_made_final(fresh_ca: CertificateAuthority, work: Path) -> None:
    """certificateHold was offered and permanent: neither released (AD CS: Unrevoke) nor made
    final. A released hold leaves the next full CRL and is listed by the next delta as
    removeFromCRL (openssl reads both, and verifies the certificate again); a hold made final
    keeps its date with its new reason; any other revocation stays final."""
    ca = fresh_ca
    a = issue(ca, work, "fe01.corp-test.se")
    b = issue(ca, work, "fe02.corp-test.se")
    ca.revoke(serial_of(b), reason=Reason.CERTIFICATE_HOLD, actor="test")
    ca.revoke(serial_of(a), reason=Reason.CERTIFICATE_HOLD, actor="test")  # the last id
    ca.publish_crl(actor="test")
    assert sorted(revoked_serials(crl_pem(ca))) == sorted([serial_of(a), serial_of(b)])
    assert "Certificate Hold" in crl_text(crl_pem(ca))
    held = verify(ca, a, flags=["-crl_check"], crls=[crl_pem(ca)])
    assert held.returncode != 0 and "certificate revoked" in held.stdout + held.stderr

    ca.release(serial_of(a), actor="test")
    assert ca.revocation(int(serial_of(a), 16)) is None
    ca.publish_crl(actor="test", delta=True)  # on the base that lists the hold
    delta = crl_text(crl_pem(ca, delta=True))
    assert serial_of(a) in revoked_serials(crl_pem(ca, delta=True))
    assert "Remove From CRL" in delta
    ca.publish_crl(actor="test")
    assert revoked_serials(crl_pem(ca)) == [serial_of(b)]
    assert_verifies(ca, a, flags=["-crl_check"], crls=[crl_pem(ca)])

    first_date = re.search(r"Revocation Date: (.*)", crl_text(crl_pem(ca))).group(1)  # type: ignore[union-attr]
    ca.revoke(serial_of(b), reason=Reason.KEY_COMPROMISE, actor="test")
    ca.publish_crl(actor="test")
    text = crl_text(crl_pem(ca))
    assert "Key Compromise" in text and "Certificate Hold" not in text
    assert re.search(r"Revocation Date: (.*)", text).group(1) == first_date  # type: ignore[union-attr]
    with pytest.raises(CaError, match="already revoked \\(keyCompromise\\)"):
        ca.revoke(serial_of(b), reason=Reason.SUPERSEDED, actor="test")
    with pytest.raises(CaError, match="only a hold is released"):
        ca.release(serial_of(b), actor="test")
    with pytest.raises(CaError, match="is not revoked"):
        ca.release(serial_of(a), actor="test")
    ca.revoke(serial_of(a), reason=Reason.SUPERSEDED, actor="test")  # after its release
    ca.publish_crl(actor="test")
    assert sorted(revoked_serials(crl_pem(ca))) == sorted([serial_of(a), serial_of(b)])
    actions = [(e["action"], e["outcome"]) for e in ca.audit_log(20)]
    assert ("unrevoke", "ok") in actions and ("unrevoke", "refused") in actions


@pytest.mark.external
def test_a_released_hold_reaches_the_delta_on_either_database(
    backend_ca: CertificateAuthority, work: Path
) -> None:
    """The released hold's entry is a new revocation row, later than the base CRL's last:
    SQLite would give the deleted last rowid again, PostgreSQL's sequence never does."""
    ca = backend_ca
    cert = issue(ca, work, "fe03.corp-test.se")
    ca.revoke(serial_of(cert), reason=Reason.CERTIFICATE_HOLD, actor="test")
    ca.publish_crl(actor="test")
    ca.release(serial_of(cert), actor="test")
    ca.publish_crl(actor="test", delta=True)
    assert revoked_serials(crl_pem(ca, delta=True)) == [serial_of(cert)]
    assert "Remove From CRL" in crl_text(crl_pem(ca, delta=True))


@pytest.mark.external
def test_a_hold_released_before_a_full_crl_is_left_out_of_its_deltas(
    backend_ca: CertificateAuthority, work: Path
) -> None:
    """A delta lists what changed since its base (RFC 5280 5.2.4): a hold released before the
    full CRL was made is no change of the deltas based on it. The released hold's row, the last
    revocation, was beyond the last id the full CRL counted (it counted listed entries only),
    so every later delta listed it as removeFromCRL again, each on a base that did not."""
    ca = backend_ca
    other = issue(ca, work, "fe05.corp-test.se")
    cert = issue(ca, work, "fe04.corp-test.se")
    ca.revoke(serial_of(other), reason=Reason.KEY_COMPROMISE, actor="test")
    ca.revoke(serial_of(cert), reason=Reason.CERTIFICATE_HOLD, actor="test")
    ca.publish_crl(actor="test")
    ca.release(serial_of(cert), actor="test")  # the last revocation row
    ca.publish_crl(actor="test")  # a full CRL without it, and its delta
    full, delta = crl_pem(ca), crl_pem(ca, delta=True)
    assert revoked_serials(full) == [serial_of(other)]
    assert "No Revoked Certificates." in crl_text(delta), crl_text(delta)
    ca.publish_crl(actor="test", delta=True)  # a later delta on the same base
    assert "No Revoked Certificates." in crl_text(delta), crl_text(delta)
    assert_verifies(ca, cert, flags=["-crl_check", "-use_deltas"], crls=[full, delta])


@pytest.mark.external
def test_another_process_learns_that_the_issuing_ca_was_revoked(
    fresh_ca: CertificateAuthority, work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A running `ca serve` kept issuing after `ca revoke` of its issuing CA from the CLI (it
    read the CA's own status once): another CA object of the same home, as another process
    holds, refuses once it reads the status again (every REVOCATION_RECHECK seconds)."""
    from lyncpki.ca import authority

    serving = CertificateAuthority.open(fresh_ca.home, PASSPHRASE)
    try:
        issue(serving, work, "fe07.corp-test.se")  # its status read: not revoked
        issuing = ca_file(fresh_ca, "issuing")
        fresh_ca.revoke(serial_of(issuing), reason=Reason.KEY_COMPROMISE, actor="cli")
        monkeypatch.setattr(authority, "REVOCATION_RECHECK", 0.0)
        with pytest.raises(CaError, match="is revoked"):
            issue(serving, work, "fe08.corp-test.se")
    finally:
        serving.engine.dispose()


@pytest.mark.external
def test_crl_entries_carry_the_revocation_dates_on_either_database(
    backend_ca: CertificateAuthority, work: Path
) -> None:
    """The CRL reads the revocation dates from the driver (ca/driver_query, db.CrlDate): each
    entry's date, as openssl prints it, is the one the database gives the CA's own listing."""
    ca = backend_ca
    certs = [issue(ca, work, f"fe{n:02d}.corp-test.se") for n in range(20, 23)]
    reasons = (Reason.KEY_COMPROMISE, Reason.SUPERSEDED, Reason.UNSPECIFIED)
    for cert, reason in zip(certs, reasons, strict=True):
        ca.revoke(serial_of(cert), reason=reason, actor="test")
    ca.publish_crl(actor="test")
    text = crl_text(crl_pem(ca))
    printed = dict(re.findall(r"Serial Number: ([0-9A-F]+)\s+Revocation Date: ([^\n]+ GMT)", text))
    assert len(printed) == 3
    for cert in certs:
        revoked_at, _ = ca.revocation(int(serial_of(cert), 16))  # type: ignore[misc]
        # openssl prints whole seconds in GMT; a CRL entry keeps whole seconds (RFC 5280)
        assert printed[serial_of(cert)] == revoked_at.astimezone(dt.UTC).strftime(
            "%b %e %H:%M:%S %Y GMT"
        )


def test_a_delta_is_based_on_the_full_crl_this_home_serves(
    tmp_path: Path, work: Path, postgres_url: str
) -> None:
    """Two homes sharing one PostgreSQL database (a copied home, as on several nodes): after
    a full CRL published at q, a delta published at p named q's full CRL as its base and
    listed only what came after it, so a revocation was on neither of p's files."""
    p = make_ca(tmp_path / "p", postgres_url)
    p.engine.dispose()
    shutil.copytree(tmp_path / "p", tmp_path / "q", symlinks=True)
    p = CertificateAuthority.open(CaHome(tmp_path / "p"), PASSPHRASE)
    q = CertificateAuthority.open(CaHome(tmp_path / "q"), PASSPHRASE)
    try:
        a = issue(p, work, "a.corp-test.se")
        p.revoke(serial_of(a), reason=Reason.KEY_COMPROMISE, actor="test")
        q.publish_crl(actor="test")  # lists a, at q only
        p.publish_crl(actor="test", delta=True)
        full, delta = crl_pem(p), crl_pem(p, delta=True)
        indicator = extension_block(crl_text(delta), "X509v3 Delta CRL Indicator:")
        assert indicator.splitlines()[1].strip() == str(crl_number(full))
        assert revoked_serials(delta) == [serial_of(a)]
        flags = ["-crl_check", "-use_deltas", "-extended_crl"]
        process = verify(p, a, flags=flags, crls=[full, delta])
        assert "certificate revoked" in process.stdout + process.stderr

        # a full CRL served that the database does not hold (restored from an older backup)
        with p.writer.begin() as conn:
            conn.execute(db.crls.delete().where(db.crls.c.number == crl_number(full)))
        with pytest.raises(CaError, match="is not in the CA database") as refused:
            p.publish_crl(actor="test", delta=True)
        assert "lyncpki ca crl" in str(refused.value.fix)
        p.publish_crl(actor="test")  # the fix: a new full CRL and its delta
        assert revoked_serials(crl_pem(p)) == [serial_of(a)]
    finally:
        p.engine.dispose()
        q.engine.dispose()


@pytest.mark.external
def test_the_issuing_ca_held_is_told_to_be_released_and_signs_again_once_released(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """With its own certificate on hold, every issuance was told to make a new CA, which a
    hold does not need: the fix now says to release it, and once released the CA signs again
    at once (it waited up to a second for its cached status)."""
    ca = fresh_ca
    issuing = serial_of(ca_file(ca, "issuing")).lower()
    ca.revoke(issuing, reason=Reason.CERTIFICATE_HOLD, actor="test")
    with pytest.raises(CaError) as refused:
        issue(ca, work, "fe01.corp-test.se")
    assert "(certificateHold)" in refused.value.message
    assert f"lyncpki ca unrevoke {issuing}" in (refused.value.fix or "")
    assert "ca init" not in (refused.value.fix or "")
    ca.release(issuing, actor="test")
    cert = issue(ca, work, "fe02.corp-test.se")
    assert_verifies(ca, cert)


def test_the_issuing_ca_is_not_revoked_from_afar(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """The API and the console revoke with keep_own: the issuing CA's own certificate is
    refused (one call stopped every issuance), audited, and stays valid; the CLI still can."""
    ca = fresh_ca
    issuing = serial_of(ca_file(ca, "issuing")).lower()
    with pytest.raises(CaError) as refused:
        ca.revoke(issuing, reason=Reason.CERTIFICATE_HOLD, actor="boss", keep_own=True)
    assert refused.value.status == 403
    assert f"lyncpki ca revoke {issuing}" in (refused.value.fix or "")
    assert ca.revocation(int(issuing, 16)) is None
    row = ca.audit_log(1)[0]
    assert (row["actor"], row["action"], row["outcome"]) == ("boss", "revoke", "refused")
    issue(ca, work, "fe01.corp-test.se")  # still signs
    assert ca.revoke(issuing, reason=Reason.CA_COMPROMISE, actor="local")["issuing_ca"] is True


@pytest.mark.external
def test_a_crl_just_published_is_valid_for_a_clock_a_little_behind(
    fresh_ca: CertificateAuthority, work: Path
) -> None:
    """A CRL's thisUpdate was the moment of publishing: a relying server whose clock ran 30
    seconds behind refused it as "CRL is not yet valid" (certificates were backdated 5 minutes,
    CRLs not). The full CRL, its delta and the root's are backdated alike."""
    ca = fresh_ca
    cert = issue(ca, work, "fe01.corp-test.se")
    ca.publish_crl(actor="test")
    ca.publish_crl(actor="test", root=True)
    behind = str(int(time.time()) - 60)
    crls = [crl_pem(ca), crl_pem(ca, root=True)]
    assert_verifies(ca, cert, flags=["-crl_check_all", "-attime", behind], crls=crls)
    deltas = [*crls, crl_pem(ca, delta=True)]
    assert_verifies(
        ca, cert, flags=["-crl_check_all", "-use_deltas", "-extended_crl", "-attime", behind],
        crls=deltas,
    )  # fmt: skip


def test_a_delta_over_a_damaged_full_crl_names_the_damage(
    fresh_ca: CertificateAuthority,
) -> None:
    """A full CRL file holding garbage was called "this home publishes none"."""
    ca = fresh_ca
    full = ca.home.crl_file(ca.config.slug)
    full.write_bytes(b"garbage")
    with pytest.raises(CaError) as refused:
        ca.publish_crl(actor="test", delta=True)
    assert "no CRL it can read" in refused.value.message and str(full) in refused.value.message
    full.unlink()
    with pytest.raises(CaError) as missing:
        ca.publish_crl(actor="test", delta=True)
    assert "publishes none" in missing.value.message
