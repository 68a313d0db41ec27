"""Wizard pages driven by a scripted prompter (no terminal): the key the plan gives is the one
offered, an assignment with no usage ticked is asked again, and a request held for approval
says what to do next. The terminal itself is tested in test_wizard_terminal.py."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, pkcs12

from lab import CONTOSO, openssl
from lyncpki.planning import plan
from lyncpki.topology import load_topology
from lyncpki.wizard import pages
from lyncpki.wizard.prompter import Cancelled, GoBack
from lyncpki.wizard.state import WizardState


class Scripted:
    """Answers each question with the default, unless `picks` says otherwise (in order)."""

    def __init__(self, picks: Sequence[list[str]] = ()) -> None:
        self.picks = list(picks)
        self.asked: list[tuple[str, object, object]] = []
        self.shown: list[str] = []

    def title(self, title: str, subtitle: str = "") -> None:
        pass

    def show(self, lines: Sequence[str]) -> None:
        self.shown += lines

    def choose(
        self,
        message: str,
        choices: Sequence[str],
        default: str | None = None,
        *,
        groups: Mapping[str, str] | None = None,
    ) -> str:
        self.asked.append((message, list(choices), default))
        return default or choices[0]

    def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
        return default

    def confirm(self, message: str, default: bool) -> bool:
        return default

    def pick(self, message: str, choices: Sequence[str], checked: Sequence[str]) -> list[str]:
        return self.picks.pop(0) if self.picks else list(checked)

    def navigate(self, *, back: bool = True, next_label: str = "Next") -> str:
        return next_label


class Typed(Scripted):
    """Types `texts` in order, whatever is asked."""

    def __init__(self, texts: list[str]) -> None:
        super().__init__()
        self.texts = texts

    def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
        return self.texts.pop(0)


def _pfx(common_name: str, password: bytes) -> bytes:
    """A .pfx of a one-day self-signed EC certificate with its key."""
    key, cert = _self_signed(common_name)
    return pkcs12.serialize_key_and_certificates(
        b"k", key, cert, None, BestAvailableEncryption(password)
    )


def _self_signed(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now).not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )  # fmt: skip
    return key, cert


def _state(tmp_path: Path, server: str, key: str | None = None) -> WizardState:
    data = yaml.safe_load(CONTOSO.read_text())
    if key is not None:
        for pool in data["sites"][0]["pools"]:
            if pool["role"] == "mediation":
                pool["certificates"] = {"key": key}
    path = tmp_path / "topology.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    topology = load_topology(path)
    return WizardState(tmp_path, path, topology, plan(topology), server=server)


@pytest.mark.parametrize("key", ["ec-p256", "rsa1024", None])
def test_the_key_the_plan_gives_is_offered_first(tmp_path: Path, key: str | None) -> None:
    """An EC key planned became rsa2048 without a word; RSA 1024 planned crashed the page
    (a default not among the choices)."""
    state = _state(tmp_path, "med01.contoso.net", key)
    ui = Scripted()
    pages.name_security(state, ui)
    ((_message, choices, default),) = [a for a in ui.asked if "Bit length" in str(a[0])]
    planned = key or "rsa2048"
    assert default == planned and state.key == planned
    assert isinstance(choices, list) and choices[0] == planned and "ec-p256" in choices


def test_an_assignment_with_no_usage_ticked_is_asked_again(tmp_path: Path) -> None:
    """Unticking every usage gave "assigned", with nothing assigned."""
    from lyncpki.deployment.assignment import assign_checked
    from lyncpki.errors import LyncPkiError

    state = _state(tmp_path, "med01.contoso.net")
    ui = Scripted(picks=[[], ["Default"]])
    assert pages.ticked_usages(ui, ["Default"], ["Default"]) == ["Default"]
    assert ui.shown == ["  Tick at least one usage (Space ticks it, Enter goes on)."]
    with pytest.raises(LyncPkiError, match="no usage to assign"):  # the domain says it too
        assign_checked(state.store, [], "00" * 20, plan=state.plan)


def test_a_request_held_for_approval_says_what_to_do_next(tmp_path: Path) -> None:
    """The status page of a pending request offered only Finish, and no way to the
    certificate once approved."""
    state = _state(tmp_path, "med01.contoso.net")
    state.immediate = True
    state.outcome = "pending at the CA, request id 20"
    state.next_step = "Once a CA manager approves it, ... --retrieve 20 ..."
    ui = Scripted()
    assert pages.status(state, ui) is None
    assert "  Once a CA manager approves it, ... --retrieve 20 ..." in ui.shown


def test_an_existing_pfx_is_replaced_only_when_confirmed(tmp_path: Path) -> None:
    """Export wrote over an existing .pfx (maybe the only copy of another key) unasked."""

    class Answers(Scripted):
        def __init__(self, names: list[str], replace: list[bool]) -> None:
            super().__init__()
            self.names, self.replace = names, replace

        def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
            return self.names.pop(0)

        def confirm(self, message: str, default: bool) -> bool:
            self.asked.append((message, [], default))
            return self.replace.pop(0)

    kept = tmp_path / "kept.pfx"
    kept.write_bytes(_pfx("kept.contoso.net", b"p"))
    other = str(tmp_path / "new.pfx")
    ui = Answers([str(kept), other], [False])
    assert pages.export_file(ui, "x.pfx") == other  # refused to replace: asked again
    assert ui.asked == [(f"{kept} exists: replace it?", [], False)]
    assert pages.export_file(Answers([str(kept)], [True]), "x.pfx") == str(kept)
    topology = tmp_path / "topology.yaml"
    topology.write_text("sip_domains: [contoso.com]\n")
    refusing = Answers([str(topology), other], [])
    assert pages.export_file(refusing, "x.pfx") == other  # never replaced, not even asked
    assert refusing.shown and "is not a .pfx" in refusing.shown[0]


def test_an_https_ca_asks_for_the_root_of_its_certificate(tmp_path: Path) -> None:
    """An HTTPS CA service whose certificate comes from a private root could not be used:
    the wizard had no --ca-trust, and the command line it showed left it out."""

    class Typed(Scripted):
        def __init__(self, texts: list[str]) -> None:
            super().__init__()
            self.texts = texts
            self.prompts: list[tuple[str, str]] = []

        def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
            self.prompts.append((message, default))
            answer = self.texts.pop(0)
            return default if answer == "=" else answer

    state = _state(tmp_path, "med01.contoso.net")
    root = tmp_path / "ca" / "root.crt"
    root.parent.mkdir()
    root.write_text("-----BEGIN CERTIFICATE-----\n")  # only its name matters here
    ui = Typed(["https://ca.contoso.net:8443", str(tmp_path / "missing.pem"), str(root)])
    pages.choose_ca(state, ui)
    assert ui.prompts[1][1] == str(root)  # the home's root offered first
    assert any("is not a file" in line for line in ui.shown)  # a missing file: asked again
    assert state.ca_trust == str(root)
    state.immediate = True
    assert f"--ca-trust {root}" in state.command_line()
    plain = Typed(["http://ca.contoso.net:8080"])
    pages.choose_ca(state, plain)
    assert state.ca_trust == "" and len(plain.prompts) == 1  # not asked over HTTP


def test_a_file_to_import_that_cannot_be_is_asked_again_on_its_page(tmp_path: Path) -> None:
    """A missing file, a folder or nothing given for Import ended the whole wizard at
    Executing, every answer lost."""

    answer = tmp_path / "answer.cer"
    answer.write_bytes(_self_signed("answer.contoso.net")[1].public_bytes(Encoding.PEM))
    state = _state(tmp_path, "med01.contoso.net")
    ui = Typed(["", str(tmp_path / "missing.cer"), str(tmp_path), str(answer)])
    assert pages.import_page(state, ui) == "import_executing"
    assert state.import_file == str(answer)
    assert len(ui.shown) == 3 and "does not exist" in ui.shown[1] and "folder" in ui.shown[2]


def test_a_wrong_pfx_password_is_asked_again_on_the_import_page(tmp_path: Path) -> None:
    """A wrong .pfx password was found at Executing, which ended the wizard."""
    pfx = tmp_path / "edge.pfx"
    pfx.write_bytes(_pfx("edge.contoso.net", b"right-password"))
    damaged = tmp_path / "damaged.cer"
    damaged.write_text("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    state = _state(tmp_path, "med01.contoso.net")
    ui = Typed([str(damaged), str(pfx), "wrong", str(pfx), "right-password"])
    assert pages.import_page(state, ui) == "import_executing"
    assert (state.import_file, state.pfx_password) == (str(pfx), "right-password")
    assert "damaged.cer" in ui.shown[0] and "password" in " ".join(ui.shown[1:]).lower()
    assert not ui.texts


def test_a_subject_field_with_a_direction_override_is_asked_again(tmp_path: Path) -> None:
    """U+202E in the city was taken, and the CA (or a report) got "Stockholm" written
    backwards under a name that reads as it."""
    state = _state(tmp_path, "med01.contoso.net")
    ui = Typed(["SE", "Stockholms l\u00e4n", "Sto\u202eckholm", "Stockholm"])
    pages.geography(state, ui)
    assert (state.country, state.state, state.city) == ("SE", "Stockholms l\u00e4n", "Stockholm")
    assert len(ui.shown) == 1 and "\\u202e" in ui.shown[0]


def test_export_offers_only_certificates_whose_key_can_be_exported(tmp_path: Path) -> None:
    """A key not marked exportable was refused at Executing, after the store's passphrase and
    the .pfx password, and that ended the wizard."""
    from lyncpki.enrollment.importing import import_file

    state = _state(tmp_path, "med01.contoso.net")
    installed = {}
    for name, exportable in (("kept.contoso.net", False), ("moved.contoso.net", True)):
        pfx = tmp_path / f"{name}.pfx"
        pfx.write_bytes(_pfx(name, b"p"))
        secret = b"Correct-horse-battery-9"
        result = import_file(state.store, pfx, password="p", secret=secret, exportable=exportable)
        assert result.certificate is not None
        installed[name] = result.certificate.thumbprint
    ui = Scripted()
    passwords = ["pw", " ", "pfx-Pass-4471"]  # two refused, said why, then one taken
    ui.text = lambda message, default="", *, secret=False: (  # type: ignore[method-assign]
        passwords.pop(0) if secret else default or "moved.pfx"
    )
    assert pages.export_choose(state, ui) == "export_executing"
    ((_message, choices, _default),) = [a for a in ui.asked if a[0] == "Certificate"]
    assert isinstance(choices, list) and len(choices) == 1
    assert choices[0].startswith(installed["moved.contoso.net"])
    assert state.thumbprint == installed["moved.contoso.net"]
    said, short, blank = ui.shown
    assert said.startswith(f"  {installed['kept.contoso.net']}") and "not exportable" in said
    # a password of two letters or a blank protected the key (the .pfx carries it)
    assert "shorter than 8 characters" in short and "needs a password" in blank
    assert state.pfx_password == "pfx-Pass-4471" and passwords == []


def test_a_failure_at_executing_goes_back_with_every_answer_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CA that does not answer ended the wizard at Executing: every answer was lost, and
    the request it had prepared was left to wait for nothing."""
    import socket

    class Visits(Scripted):
        def __init__(self) -> None:
            super().__init__()
            self.titles: list[str] = []

        def title(self, title: str, subtitle: str = "") -> None:
            self.titles.append(title)

        def navigate(self, *, back: bool = True, next_label: str = "Next") -> str:
            if self.titles.count("Certificate Request Summary") > 1:
                raise Cancelled  # the summary again: the administrator stops here
            return next_label

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    state = _state(tmp_path, "med01.contoso.net")
    state.immediate, state.ca_url, state.city = True, f"http://127.0.0.1:{port}", "Lund"
    monkeypatch.setenv("LYNCPKI_STORE_PASSPHRASE", "Correct-horse-battery-9")
    ui = Visits()
    with pytest.raises(Cancelled):
        pages.run(state, ui, start="summary")
    assert ui.titles == [
        "Certificate Request Summary",
        "Executing Commands",
        "Certificate Request Summary",
    ]
    failed = [line for line in ui.shown if line.startswith("  failed:")]
    assert len(failed) == 1 and f"127.0.0.1:{port}" in failed[0]
    assert "  Back to the previous page: your answers are kept." in ui.shown
    assert (state.ca_url, state.city) == (f"http://127.0.0.1:{port}", "Lund")
    assert not state.store.exists() or not state.store.load().pending


def test_a_request_the_ca_took_without_answering_ends_the_wizard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Back after "no answer" (the request kept pending, the CA may have issued it) and Next
    sent a second request with a second key: the wizard ends there, saying how to go on."""
    import socket
    import threading

    from lyncpki.enrollment.requesting import RequestKept

    listener = socket.create_server(("127.0.0.1", 0))
    taken: list[int] = []

    def drop() -> None:  # reads each request, then hangs up without a word
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            received = b""
            while b"END NEW CERTIFICATE REQUEST" not in received:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                received += chunk
            taken.append(1)
            conn.close()

    threading.Thread(target=drop, daemon=True).start()
    state = _state(tmp_path, "med01.contoso.net")
    state.immediate = True
    state.ca_url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    monkeypatch.setenv("LYNCPKI_STORE_PASSPHRASE", "Correct-horse-battery-9")
    try:
        with pytest.raises(RequestKept) as kept:
            pages.run(state, Scripted(), start="summary")
    finally:
        listener.close()
    assert taken == [1]  # one request sent, not two
    assert "--clear 1" in (kept.value.fix or "")
    assert [p.id for p in state.store.load().pending] == [1]


def test_a_summary_that_cannot_make_the_request_goes_back_to_the_page_chosen(
    tmp_path: Path,
) -> None:
    """The summary refused the answers and went Back to Additional SANs, whatever page the
    problem was on (here the organization, longer than a subject takes). It now offers the
    pages visited, latest first; the one chosen comes next, and Back from it goes on from there."""

    class Revises(Scripted):
        def __init__(self) -> None:
            super().__init__()
            self.titles: list[str] = []
            self.offered: list[str] = []

        def title(self, title: str, subtitle: str = "") -> None:
            self.titles.append(title)
            if title == "Executing Commands":
                raise Cancelled  # the request can be made now: stop before making it

        def choose(self, message: str, choices: Sequence[str], default: str | None = None) -> str:
            if message == "Go back to":
                self.offered = list(choices)
                return "Organization Information"
            return super().choose(message, choices, default)

        def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
            revised = message == "Organization" and self.offered  # on the second visit
            return "Contoso" if revised else default

    state = _state(tmp_path, "med01.contoso.net")
    state.immediate, state.output = False, str(tmp_path / "med01.req")
    state.organization = "x" * 100
    ui = Revises()
    with pytest.raises(Cancelled):
        pages.run(state, ui, start="name_security")
    summary = "Certificate Request Summary"
    assert ui.titles.count(summary) == 2
    after = ui.titles[ui.titles.index(summary) + 1 :]
    assert after[0] == "Organization Information"
    assert after[1:4] == [  # and on from there, not from Additional SANs
        "Geographical Information",
        "Subject Name / Subject Alternative Names",
        "SIP Domain Setting on Subject Alternate Names (SANs)",
    ]
    assert ui.offered[0] == "Configure Additional Subject Alternate Names"  # latest first
    assert "Name and Security Settings" in ui.offered and ui.offered[-1] == "Cancel"
    assert any("at most 64" in line for line in ui.shown)
    assert state.organization == "Contoso"


def test_esc_goes_back_and_a_summary_with_nothing_to_revise_cancels(tmp_path: Path) -> None:
    """Esc at a page's question (GoBack) returns to the previous page; a refusal at a summary
    reached first (nothing visited to fix it on) cancels instead of showing it again forever."""

    class Escapes(Scripted):
        def __init__(self) -> None:
            super().__init__()
            self.titles: list[str] = []

        def title(self, title: str, subtitle: str = "") -> None:
            self.titles.append(title)
            if self.titles.count("Geographical Information") == 2 or len(self.titles) > 6:
                raise Cancelled

        def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
            if message == "City/Locality" and self.titles.count("Geographical Information") == 1:
                raise GoBack
            return default

    state = _state(tmp_path, "med01.contoso.net")
    ui = Escapes()
    with pytest.raises(Cancelled):
        pages.run(state, ui, start="organization")
    assert ui.titles == [
        "Organization Information",
        "Geographical Information",
        "Organization Information",  # Esc: back one page
        "Geographical Information",
    ]
    state.organization = "x" * 100
    with pytest.raises(Cancelled):
        pages.run(state, Scripted(), start="summary")


def test_the_first_store_passphrase_is_typed_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Executing set a new home's store passphrase from one question: a typo locked the key
    it wrote. Chosen, it is asked twice and a mismatch refused before any key is made; once a
    store has one, it is asked once (checked against it)."""
    from lyncpki.errors import LyncPkiError

    for name in ("LYNCPKI_STORE_PASSPHRASE", "LYNCPKI_CA_PASSPHRASE"):
        monkeypatch.delenv(name, raising=False)

    class Asked(Typed):
        def __init__(self, texts: list[str]) -> None:
            super().__init__(texts)
            self.questions: list[str] = []

        def text(self, message: str, default: str = "", *, secret: bool = False) -> str:
            self.questions.append(message)
            return super().text(message, default, secret=secret)

    def request(output: str, typed: list[str]) -> Asked:
        state = _state(tmp_path, "med01.contoso.net")
        state.request, state.immediate = state.targets()[0].label, False
        state.output = str(tmp_path / output)
        ui = Asked(typed)
        pages.executing(state, ui)
        return ui

    keys = tmp_path / "servers" / "med01.contoso.net" / "keys"
    with pytest.raises(LyncPkiError, match="the two entries differ"):
        request("a.req", ["typo horse batttery", "typo horse battery"])
    assert not keys.exists() or not any(keys.iterdir())
    chosen = request("b.req", ["correct horse battery", "correct horse battery"])
    label = "Passphrase of the server stores' keys"
    assert chosen.questions == [label, f"{label} (again)"]
    (key,) = keys.iterdir()
    openssl("pkey", "-in", key, "-passin", "pass:correct horse battery", "-noout")
    checked = request("c.req", ["correct horse battery"])
    assert checked.questions == [label]


def test_the_ca_account_page_asks_for_an_account_by_default_and_never_takes_an_empty_one(
    tmp_path: Path,
) -> None:
    """A lyncpki CA service enrolls CA accounts only: "Specify alternate credentials?" said No
    by default, and an empty user name was taken; both failed only at Executing Commands."""
    state = _state(tmp_path, "fe01.contoso.net")
    ui = Typed(["", "  ", "fe-requester", "its-password"])
    pages.ca_account(state, ui)
    assert state.alternate_credentials is True and state.account == "fe-requester"
    assert state.password == "its-password"
    assert sum("give the CA account's name" in line for line in ui.shown) == 2, ui.shown

    class No(Scripted):
        def confirm(self, message: str, default: bool) -> bool:
            return False

    said = No()
    pages.ca_account(_state(tmp_path, "fe01.contoso.net"), said)
    assert any("enrolls CA accounts only" in line for line in said.shown), said.shown
