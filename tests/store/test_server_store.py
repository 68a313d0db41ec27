"""The store on its own: a request's key waits for its certificate; assignments, staged rolls
and previous certificates over time (an injected clock); friendly names unique; one
passphrase per store; server names that cannot leave servers/; a damaged index reported."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from store_pki import NOW, Pki, self_signed

from lyncpki.clock import FixedClock
from lyncpki.errors import LyncPkiError
from lyncpki.store import ServerStore, StoreError, server_name
from lyncpki.x509.requests import RequestSubject, build_request

SECRET = b"store-secret-1"


def store(tmp_path: Path, server: str = "fe01.contoso.net") -> ServerStore:
    return ServerStore(tmp_path, server, clock=FixedClock(NOW))


def pending(s: ServerStore, name: str = "pool.contoso.net") -> ec.EllipticCurvePrivateKey:
    key = ec.generate_private_key(ec.SECP256R1())
    csr = build_request(key, RequestSubject(name, (name,)))
    s.add_pending(
        key,
        csr,
        secret=SECRET,
        usages=["Default"],
        subject=name,
        sans=[name],
        key_name="ec-p256",
        template="WebServer",
        friendly_name="Lync Default",
        exportable=False,
    )
    return key


def test_an_answer_finds_its_pending_key(tmp_path: Path, pki: Pki) -> None:
    s = store(tmp_path)
    key = pending(s)
    assert len(s.load().pending) == 1
    cert, _ = pki.leaf("pool.contoso.net", key)
    installed, answered = s.install(cert, [pki.root], source="test")
    assert answered is not None and answered.id == 1
    index = s.load()
    assert index.pending == () and [c.thumbprint for c in index.personal] == [installed.thumbprint]
    assert installed.friendly_name == "Lync Default" and installed.exportable is False
    assert [t.root for t in index.trusted] == [True]
    # the key that waited is the certificate's, and opens with the passphrase only
    assert installed.key_id is not None
    opened = s.private_key(installed.key_id, SECRET)
    assert opened.public_key() == cert.public_key()
    with pytest.raises(LyncPkiError, match="wrong passphrase"):
        s.private_key(installed.key_id, b"other")
    mode = s.paths.key(installed.key_id).stat().st_mode & 0o777
    assert mode == 0o600
    # the same answer again changes nothing
    again, none = s.install(cert, [pki.root], source="test")
    assert again == installed and none is None and len(s.load().personal) == 1


def test_a_certificate_without_its_key_is_refused(tmp_path: Path, pki: Pki) -> None:
    cert, _ = pki.leaf("pool.contoso.net")
    with pytest.raises(StoreError, match="no private key"):
        store(tmp_path).install(cert, [], source="test")


def test_friendly_names_are_unique_in_a_store(tmp_path: Path, pki: Pki) -> None:
    s = store(tmp_path)
    names = []
    for _ in range(3):
        cert, _ = pki.leaf("pool.contoso.net", pending(s))
        names.append(s.install(cert, [], source="test")[0].friendly_name)
    assert names == ["Lync Default", "Lync Default (2)", "Lync Default (3)"]


def test_keys_of_a_store_share_one_passphrase(tmp_path: Path) -> None:
    s = store(tmp_path)
    pending(s)
    key = ec.generate_private_key(ec.SECP256R1())
    csr = build_request(key, RequestSubject("x.contoso.net", ("x.contoso.net",)))
    with pytest.raises(StoreError, match="not the one that protects"):
        s.add_pending(
            key,
            csr,
            secret=b"a-different-one",
            usages=["Default"],
            subject="x.contoso.net",
            sans=[],
            key_name="ec-p256",
            template="WebServer",
            friendly_name="x",
            exportable=False,
        )


def test_roll_stages_then_switches_at_the_effective_date(tmp_path: Path, pki: Pki) -> None:
    clock = FixedClock(NOW)
    s = ServerStore(tmp_path, "edge01.contoso.net", clock=clock)
    old, _ = pki.leaf("av.contoso.com", pending(s))
    new, _ = pki.leaf("av.contoso.com", pending(s))
    old_tp = s.install(old, [], source="t")[0].thumbprint
    new_tp = s.install(new, [], source="t")[0].thumbprint
    s.assign("AudioVideoAuthentication", old_tp)
    effective = NOW + dt.timedelta(days=2)
    s.assign("AudioVideoAuthentication", new_tp, effective=effective)
    before = s.load().slots("AudioVideoAuthentication", clock.now())
    assert before.current and before.current.thumbprint == old_tp
    assert before.staged and before.staged.thumbprint == new_tp
    # a roll of the current certificate onto itself is refused: it dropped the staged one
    with pytest.raises(StoreError, match="already the current") as refused:
        s.assign("AudioVideoAuthentication", old_tp, effective=effective + dt.timedelta(days=1))
    assert new_tp in (refused.value.fix or "")
    assert s.load().slots("AudioVideoAuthentication", clock.now()) == before
    clock.advance(days=2)
    after = s.load().slots("AudioVideoAuthentication", clock.now())
    assert after.current and after.current.thumbprint == new_tp and after.staged is None
    assert after.previous and after.previous.thumbprint == old_tp
    # Remove-CsCertificate -Previous, then the current one
    s.unassign("AudioVideoAuthentication", previous=True)
    assert s.load().slots("AudioVideoAuthentication", clock.now()).previous is None
    s.unassign("AudioVideoAuthentication")
    assert s.load().slots("AudioVideoAuthentication", clock.now()).current is None
    assert len(s.load().personal) == 2  # removal un-assigns; the certificates stay


def test_an_immediate_assignment_keeps_the_replaced_one_as_previous(
    tmp_path: Path, pki: Pki
) -> None:
    s = store(tmp_path)
    first = s.install(pki.leaf("pool.contoso.net", pending(s))[0], [], source="t")[0]
    second = s.install(pki.leaf("pool.contoso.net", pending(s))[0], [], source="t")[0]
    s.assign("Default", first.thumbprint)
    slots = s.assign("Default", second.thumbprint)
    assert slots.current and slots.current.thumbprint == second.thumbprint
    assert slots.previous and slots.previous.thumbprint == first.thumbprint
    with pytest.raises(StoreError, match="not in the store"):
        s.assign("Default", "AB" * 20)


@pytest.mark.parametrize(
    "name",
    [
        "../etc",
        "..",
        "fe01/../../etc",
        "/etc/passwd",
        "fe01..contoso.net",
        "a\\b.contoso.net",
        "fe01",
        "",
        "fe01.contoso.net/x",
    ],
)
def test_server_names_cannot_leave_the_servers_folder(tmp_path: Path, name: str) -> None:
    with pytest.raises(StoreError):
        server_name(name)
    with pytest.raises(StoreError):
        ServerStore(tmp_path, name)
    assert not (tmp_path / "servers").exists() or list((tmp_path / "servers").iterdir()) == []


def test_a_store_folder_linked_elsewhere_is_refused(tmp_path: Path) -> None:
    (tmp_path / "servers").mkdir()
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "servers" / "fe01.contoso.net").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(StoreError, match="not inside"):
        ServerStore(tmp_path, "fe01.contoso.net")


@pytest.mark.parametrize("target", ["fe02.contoso.net", "gone"])
def test_a_store_folder_linked_to_a_sibling_or_nowhere_is_refused(
    tmp_path: Path, target: str
) -> None:
    """A link inside servers/ (to another server's store, or dangling) is no store either: two
    names would share one index and one set of keys."""
    servers = tmp_path / "servers"
    (servers / "fe02.contoso.net").mkdir(parents=True)
    (servers / "fe01.contoso.net").symlink_to(servers / target)
    with pytest.raises(StoreError, match="is a link"):
        ServerStore(tmp_path, "fe01.contoso.net")
    ServerStore(tmp_path, "fe02.contoso.net")  # the real folder beside it opens


def test_a_damaged_index_is_reported_not_raised(tmp_path: Path, pki: Pki) -> None:
    s = store(tmp_path)
    pending(s)
    s.paths.index.write_text('{"format": "lyncpki.store/1", "server": "fe01.con')
    with pytest.raises(StoreError, match="cannot be read") as caught:
        s.load()
    assert caught.value.fix and "backup" in caught.value.fix
    data = {"format": "lyncpki.store/1", "server": "other.contoso.net"}
    s.paths.index.write_text(json.dumps(data))
    with pytest.raises(StoreError, match=r"belongs to other\.contoso\.net"):
        s.load()


@pytest.mark.parametrize(("text", "kind"), [("[]", "array"), ("null", "null"), ('"x"', "string")])
def test_an_index_that_is_json_but_no_object_is_reported(
    tmp_path: Path, pki: Pki, text: str, kind: str
) -> None:
    s = store(tmp_path)
    pending(s)
    s.paths.index.write_text(text)
    with pytest.raises(StoreError, match=f"cannot be read .*a JSON {kind}, not the store's object"):
        s.load()


def test_the_index_round_trips(tmp_path: Path, pki: Pki) -> None:
    s = store(tmp_path)
    cert, _ = pki.leaf("pool.contoso.net", pending(s))
    installed = s.install(cert, [pki.root], source="t")[0]
    s.assign("Default", installed.thumbprint, effective=NOW + dt.timedelta(hours=1))
    pending(s, "other.contoso.net")
    index = s.load()
    again = type(index).from_dict(json.loads(json.dumps(index.as_dict())))
    assert again == dataclasses.replace(index)
    # x509 certificate on disk is the same certificate
    on_disk = s.certificate(installed.thumbprint)
    assert on_disk.fingerprint(hashes.SHA1()) == cert.fingerprint(hashes.SHA1())
    assert isinstance(on_disk, x509.Certificate)


def test_a_certificate_file_replaced_by_another_certificate_is_refused(
    tmp_path: Path, pki: Pki
) -> None:
    """A store's certificate file overwritten with another certificate (same CA, same names)
    was judged by `check` and listed by `certs` as the one the index names; only --verify-keys
    noticed, as a key mismatch (found by an exploratory test)."""
    s = store(tmp_path)
    cert, _ = pki.leaf("pool.contoso.net", pending(s))
    other, _ = pki.leaf("pool.contoso.net", pending(s, "pool.contoso.net"))
    installed = s.install(cert, [pki.root], source="t")[0]
    path = s.paths.certificate(installed.thumbprint)
    path.write_bytes(other.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(StoreError, match="the file was replaced") as caught:
        s.certificate(installed.thumbprint)
    assert installed.thumbprint in caught.value.message
    (root,) = s.load().trusted
    s.paths.trusted(root.thumbprint).write_bytes(other.public_bytes(serialization.Encoding.PEM))
    with pytest.raises(StoreError, match="the file was replaced"):
        s.trusted_certificates()


def test_a_certificate_file_with_more_than_its_pem_is_still_read_and_still_checked(
    tmp_path: Path, pki: Pki
) -> None:
    """A store file that is not one bare PEM block (text before it, as `openssl x509 -text`
    writes) is read whole by pyca; a replaced one is still refused on that path."""
    s = store(tmp_path)
    cert, _ = pki.leaf("pool.contoso.net", pending(s))
    other, _ = pki.leaf("pool.contoso.net", pending(s, "pool.contoso.net"))
    installed = s.install(cert, [pki.root], source="t")[0]
    path = s.paths.certificate(installed.thumbprint)
    path.write_bytes(
        b"subject=CN = pool.contoso.net\n" + cert.public_bytes(serialization.Encoding.PEM)
    )
    assert s.certificate(installed.thumbprint) == cert
    path.write_bytes(
        b"subject=CN = pool.contoso.net\n" + other.public_bytes(serialization.Encoding.PEM)
    )
    with pytest.raises(StoreError, match="the file was replaced"):
        s.certificate(installed.thumbprint)
    path.write_bytes(
        b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
    )
    with pytest.raises(StoreError, match="lost or damaged"):
        s.certificate(installed.thumbprint)
    garbage = base64.encodebytes(b"\x30\x03\x02\x01\x05 and no certificate")
    path.write_bytes(b"-----BEGIN CERTIFICATE-----\n" + garbage + b"-----END CERTIFICATE-----\n")
    with pytest.raises(StoreError, match="lost or damaged"):  # not "replaced" by garbage
        s.certificate(installed.thumbprint)


def test_removing_several_usages_is_all_or_none(tmp_path: Path, pki: Pki) -> None:
    """`remove --type WebServicesInternal,Default` removed the first, then refused the second
    (nothing assigned), exit 2: the store changed by a command that said it failed."""
    s = store(tmp_path)
    cert, _ = pki.leaf("pool.contoso.net", pending(s))
    installed = s.install(cert, [pki.root], source="t")[0]
    s.assign("WebServicesInternal", installed.thumbprint)
    before = s.load()
    with pytest.raises(StoreError, match="no certificate is assigned to Default") as refused:
        s.unassign_all(["WebServicesInternal", "Default"])
    assert "nothing was removed" in refused.value.message
    assert s.load() == before
    # a usage named twice is removed once, without an error
    (slots,) = s.unassign_all(["WebServicesInternal", "WebServicesInternal"])
    assert slots.current is not None and slots.current.thumbprint == installed.thumbprint
    assert s.load().slots("WebServicesInternal", NOW).current is None


def test_an_answer_refused_on_a_server_without_a_store_leaves_no_folder(
    tmp_path: Path, pki: Pki
) -> None:
    """Importing a CA's answer on a server that never made a request was refused, and left an
    empty store behind (.lock, certs/, keys/, requests/, trusted/, no store.json)."""
    maker = store(tmp_path, "fe01.contoso.net")
    cert, _ = pki.leaf("pool.contoso.net", pending(maker))
    other = store(tmp_path, "fe02.contoso.net")
    with pytest.raises(StoreError, match="has no private key") as refused:
        other.install(cert, [pki.root], source="t")
    assert "no store yet" in refused.value.message
    assert not other.paths.root.exists()
    installed, answered = maker.install(cert, [pki.root], source="t")  # where it was made
    assert answered is not None and installed.key_id


@pytest.mark.parametrize(
    ("secret", "words"),
    [
        (b"short", "shorter than 12 characters"),
        (b" " * 12, "begins or ends with a space"),
        (b"z" * 16, "fewer than 5 different characters"),
    ],
)
def test_a_new_stores_passphrase_is_refused_before_anything_is_made(
    tmp_path: Path, secret: bytes, words: str
) -> None:
    """Twelve blanks were taken as a store's passphrase, and a short one, refused, left the
    store's empty folders behind."""
    s = store(tmp_path)
    key = ec.generate_private_key(ec.SECP256R1())
    csr = build_request(key, RequestSubject("x.contoso.net", ("x.contoso.net",)))
    with pytest.raises(StoreError, match=words):
        s.add_pending(
            key, csr, secret=secret, usages=["Default"], subject="x.contoso.net", sans=[],
            key_name="ec-p256", template="WebServer", friendly_name="x", exportable=False,
        )  # fmt: skip
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("extension", "is_ca"),
    [("basicConstraints=critical,CA:TRUE", True), ("basicConstraints=CA:FALSE", False)],
)
def test_a_self_signed_certificate_is_a_ca_only_if_it_says_so(
    tmp_path: Path, extension: str, is_ca: bool
) -> None:
    """A self-signed certificate that says CA:FALSE (a server's self-signed certificate) was
    trusted as a root; made by openssl req -x509, it is refused as one now."""
    import subprocess

    from lyncpki.store import is_ca_certificate

    pem = tmp_path / "self.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(tmp_path / "self.key"), "-out", str(pem),
         "-subj", "/CN=self.contoso.net", "-days", "30", "-addext", extension],
        check=True, capture_output=True,
    )  # fmt: skip
    cert = x509.load_pem_x509_certificate(pem.read_bytes())
    assert is_ca_certificate(cert) is is_ca
    s = store(tmp_path)
    if is_ca:
        assert [t.thumbprint for t in s.trust([cert])] == [thumbprint_of(cert)]
    else:
        with pytest.raises(StoreError, match="is not a CA certificate"):
            s.trust([cert])


def test_a_self_signed_certificate_without_basic_constraints_is_a_v1_root() -> None:
    from lyncpki.store import is_ca_certificate

    key = ec.generate_private_key(ec.SECP256R1())
    assert is_ca_certificate(self_signed("Old Root", key, ca=None))


def thumbprint_of(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def test_an_index_that_is_not_text_is_said_not_to_be_text(tmp_path: Path) -> None:
    s = store(tmp_path)
    s.paths.make()
    s.paths.index.write_bytes(b'{"format": "\xe9"}')
    with pytest.raises(StoreError) as refused:
        s.load()
    assert "is not UTF-8 text (byte 12)" in refused.value.message
    assert "backup" in (refused.value.fix or "")


def test_a_second_certificate_of_a_kept_key_keeps_the_keys_exportability(
    tmp_path: Path, pki: Pki
) -> None:
    """A request's key made not exportable, answered twice by the CA: the second certificate
    was installed as exportable when asked (--exportable), and export then gave the key away;
    without the flag, a second certificate of an exportable key became not exportable."""
    s = store(tmp_path)
    key = pending(s)  # made not exportable
    first, _ = pki.leaf("pool.contoso.net", key)
    second, _ = pki.leaf("pool.contoso.net", key)
    s.install(first, [pki.root], source="test")
    with pytest.raises(StoreError, match="exportability is fixed when a key is made"):
        s.install(second, [pki.root], source="test", exportable=True)
    installed, _ = s.install(second, [pki.root], source="test")
    assert installed.exportable is False
    with pytest.raises(StoreError, match="installed already, its key not exportable"):
        s.install(second, [pki.root], source="test", exportable=True)
    assert [c.exportable for c in s.load().personal] == [False, False]


def test_importing_an_installed_certificate_under_another_name_is_refused(
    tmp_path: Path, pki: Pki
) -> None:
    """`import --friendly-name NEW` of a certificate already there said "already installed"
    and kept the old name without a word; the name a .pfx carries is no such request."""
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    from lyncpki.enrollment.importing import import_file

    cert, key = pki.leaf("edge.contoso.net")
    pfx = tmp_path / "edge.pfx"
    pfx.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"Edge from the pfx", key, cert, [pki.root], BestAvailableEncryption(b"pw")
        )
    )
    s = store(tmp_path)
    first = import_file(s, pfx, password="pw", secret=SECRET, friendly_name="Edge internal")
    assert first.certificate is not None and first.certificate.friendly_name == "Edge internal"
    with pytest.raises(StoreError, match="installed already as 'Edge internal'"):
        import_file(s, pfx, password="pw", secret=SECRET, friendly_name="Edge locked")
    again = import_file(s, pfx, password="pw", secret=SECRET)  # the .pfx's own name: no request
    assert again.already and again.certificate == first.certificate


@pytest.mark.parametrize("failing", ["request file", "index"])
def test_a_request_that_fails_partway_leaves_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    """A disk full after the key was written (its .req, or the index) left a private key no
    index named, that nothing listed, removed or swept."""
    import errno

    import lyncpki.store.server_store as server_store

    s = store(tmp_path)
    pending(s, "first.contoso.net")  # the store and its first key
    keys = sorted(p.name for p in s.paths.root.joinpath("keys").iterdir())
    written = server_store.write_atomic

    def full(path: str | Path, data: bytes, *, mode: int = 0o644) -> Path:
        name = Path(path).name
        if (failing == "request file" and name.endswith(".req")) or (
            failing == "index" and name == "store.json"
        ):
            raise OSError(errno.ENOSPC, "No space left on device")
        return written(path, data, mode=mode)

    monkeypatch.setattr(server_store, "write_atomic", full)
    with pytest.raises(OSError):
        pending(s, "second.contoso.net")
    monkeypatch.undo()
    assert sorted(p.name for p in s.paths.root.joinpath("keys").iterdir()) == keys
    assert [p.subject for p in s.load().pending] == ["first.contoso.net"]
