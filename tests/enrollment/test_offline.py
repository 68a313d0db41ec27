"""Delayed requests: the `.req` file openssl accepts, signed once by our CA (`lyncpki ca issue`)
and once by an other CA made with openssl alone; both answers import and assign. Assignment
refuses an answer missing a planned SAN (naming it) and an expired one."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lab import (
    CONTOSO,
    Lab,
    ok,
    openssl,
    openssl_request,
    run_lyncpki,
    sans_of,
    thumbprint_of,
)
from other_ca import OtherCa

MED = "med01.contoso.net"


def offline_request(lab: Lab, server: str, usage: str, out: Path) -> dict:  # type: ignore[type-arg]
    process = lab.cli(
        "request",
        "--topology",
        CONTOSO,
        "--server",
        server,
        "--type",
        usage,
        "--offline",
        "--output",
        out,
        "--json",
    )
    (outcome,) = json.loads(ok(process).stdout)["requests"]
    assert outcome["status"] == "offline"
    return outcome  # type: ignore[no-any-return]


def assign(lab: Lab, server: str, usage: str, cert: Path, *more: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    process = lab.cli(
        "assign",
        "--server",
        server,
        "--type",
        usage,
        "--thumbprint",
        thumbprint_of(cert),
        "--topology",
        CONTOSO,
        "--json",
        *more,
    )
    assert "Traceback" not in process.stderr
    return process.returncode, json.loads(process.stdout)


def test_the_req_file_is_what_certreq_writes_and_openssl_accepts(lab: Lab) -> None:
    req = lab.work / "se01-default.req"
    outcome = offline_request(lab, "se01.contoso.net", "Default", req)
    text = req.read_text()
    assert text.startswith("-----BEGIN NEW CERTIFICATE REQUEST-----\n")
    assert text.rstrip().endswith("-----END NEW CERTIFICATE REQUEST-----")
    # openssl reads the certreq armor only as a request whose signature verifies
    assert "verify OK" in openssl("req", "-verify", "-in", req, "-noout")
    dump = openssl("req", "-in", req, "-noout", "-text")
    for name in outcome["sans"]:
        assert f"DNS:{name}" in dump
    assert "1.3.6.1.4.1.311.20.2" in dump  # the AD CS certificate-template extension
    assert "C = US, ST = WA, L = Redmond, O = Contoso Ltd, OU = IT, CN = se01.contoso.net" in dump


def test_answers_of_our_ca_and_of_an_other_ca_import_and_assign(lab: Lab, tmp_path: Path) -> None:
    # our CA, as an administrator signs a .req handed over: lyncpki ca issue
    req = lab.work / "se01-web-internal.req"
    offline_request(lab, "se01.contoso.net", "WebServicesInternal", req)
    answer = lab.work / "se01-web-internal.cer"
    ok(lab.cli("ca", "issue", req, "--out", answer, "--chain"))
    ok(lab.cli("import", "--server", "se01.contoso.net", answer))
    code, result = assign(lab, "se01.contoso.net", "WebServicesInternal", answer)
    assert code == 0 and result["assigned"], result

    # an other CA (openssl ca), its answer with the chain as PKCS#7
    other = OtherCa(tmp_path / "other")
    req = lab.work / "se01-web-external.req"
    offline_request(lab, "se01.contoso.net", "WebServicesExternal", req)
    leaf = other.sign(req)
    ok(lab.cli("import", "--server", "se01.contoso.net", other.p7b(leaf)))
    code, result = assign(lab, "se01.contoso.net", "WebServicesExternal", leaf)
    assert code == 0 and result["assigned"], result
    rows = json.loads(ok(lab.cli("certs", "--server", "se01.contoso.net", "--json")).stdout)
    assigned = {r["type"]: r["issuer"] for r in rows["certificates"] if r["state"] == "assigned"}
    assert assigned["WebServicesExternal"] == "CN=Other Public CA"
    assert assigned["WebServicesInternal"] == "CN=lyncpki Issuing CA"


def test_assign_refuses_a_missing_planned_san_and_names_it(lab: Lab, tmp_path: Path) -> None:
    other = OtherCa(tmp_path / "other")
    ok(lab.cli("import", "--server", MED, other.root))  # trust the other CA first
    req = lab.work / "med-default.req"
    outcome = offline_request(lab, MED, "Default", req)
    dropped = outcome["sans"][-1]
    leaf = other.sign(req, sans=outcome["sans"][:-1])
    assert dropped not in sans_of(leaf)
    ok(lab.cli("import", "--server", MED, leaf))
    code, result = assign(lab, MED, "Default", leaf)
    assert code == 1 and not result["assigned"]
    missing = [f for f in result["findings"] if f["id"] == "san.missing"]
    assert len(missing) == 1 and dropped in missing[0]["message"], result["findings"]
    # the table says it too, in words
    process = lab.cli(
        "assign",
        "--server",
        MED,
        "--type",
        "Default",
        "--thumbprint",
        thumbprint_of(leaf),
        "--topology",
        CONTOSO,
    )
    assert process.returncode == 1 and dropped in process.stdout and "refused" in process.stdout
    rows = json.loads(ok(lab.cli("certs", "--server", MED, "--json")).stdout)["certificates"]
    assert {r["state"] for r in rows} == {"unassigned"}
    # --force assigns anyway, and says it was forced
    code, result = assign(lab, MED, "Default", leaf, "--force")
    assert code == 0 and result["assigned"] and result["forced"]


def test_assign_refuses_an_expired_certificate(lab: Lab, tmp_path: Path) -> None:
    other = OtherCa(tmp_path / "other")
    req = lab.work / "pchat-default.req"
    offline_request(lab, "pchat01.contoso.net", "Default", req)
    leaf = other.sign(req, start="20200101000000Z", end="20210101000000Z")
    ok(lab.cli("import", "--server", "pchat01.contoso.net", other.p7b(leaf)))
    code, result = assign(lab, "pchat01.contoso.net", "Default", leaf)
    assert code == 1 and not result["assigned"]
    ids = {f["id"] for f in result["findings"] if f["severity"] == "error"}
    assert ids == {"cert.expired"}, result["findings"]


def test_an_answer_without_its_request_is_refused(lab: Lab, tmp_path: Path) -> None:
    other = OtherCa(tmp_path / "other")
    work = tmp_path / "elsewhere"
    work.mkdir()
    _, req = openssl_request(work, "elsewhere", "dir01.contoso.net")
    leaf = other.sign(req)
    process = lab.cli("import", "--server", "dir01.contoso.net", leaf)
    assert process.returncode == 2
    assert "no private key" in process.stderr and "fix:" in process.stderr


def test_several_requests_go_into_a_new_folder(tmp_path: Path) -> None:
    """`--output DIR` for several requests makes the folder (it was refused unless it
    existed); a file name for several requests is refused, and nothing is written. A home of
    its own: the lab's dir01 is other tests' business."""
    home, folder = tmp_path / "home", tmp_path / "dir01-requests" / "today"
    asked = ("request", "--topology", CONTOSO, "--server", "dir01.contoso.net", "--offline")
    process = run_lyncpki(*asked, "--output", folder, "--json", "--home", home)
    outcomes = json.loads(ok(process).stdout)["requests"]
    assert len(outcomes) == 3
    for outcome in outcomes:
        written = Path(outcome["output"])
        assert written.parent == folder
        assert "verify OK" in openssl("req", "-verify", "-in", written, "-noout")
    refused = run_lyncpki(*asked, "--output", tmp_path / "all.req", "--home", home)
    assert refused.returncode == 2 and "is not a folder" in refused.stderr
    assert not (tmp_path / "all.req").exists()


def _store(home: Path, server: str) -> Path:
    return home / "servers" / server


def test_a_request_file_that_cannot_or_must_not_be_written_leaves_the_store_as_it_was(
    tmp_path: Path,
) -> None:
    """`request --offline -o FILE` replaced the topology it had just read with a request, and
    one that could not write its file (a missing folder) kept a pending request and its key
    for a .req that never existed; a second request onto the .req of a request still pending
    replaced it. Each is now refused before any key is made; clearing a request removes its
    key and its copy of the request."""
    home = tmp_path / "home"
    topology = tmp_path / "contoso.yaml"
    topology.write_bytes(CONTOSO.read_bytes())
    asked = ("request", "--topology", topology, "--server", MED, "--offline", "--home", home)

    refused = run_lyncpki(*asked, "--output", topology)
    assert refused.returncode == 2 and "is the topology file" in refused.stderr
    assert topology.read_bytes() == CONTOSO.read_bytes()
    refused = run_lyncpki(*asked, "--output", tmp_path / "missing" / "med.req")
    assert refused.returncode == 2 and "does not exist" in refused.stderr
    notes = tmp_path / "notes.txt"
    notes.write_text("not a request\n")
    refused = run_lyncpki(*asked, "--output", notes)
    assert refused.returncode == 2 and "is not a certificate request" in refused.stderr
    assert notes.read_text() == "not a request\n"
    assert not _store(home, MED).exists() or not list((_store(home, MED) / "keys").iterdir())

    req = tmp_path / "med.req"
    first = json.loads(ok(run_lyncpki(*asked, "--output", req, "--json")).stdout)["requests"]
    written = req.read_bytes()
    again = run_lyncpki(*asked, "--output", req)
    assert again.returncode == 2 and "holds pending request" in again.stderr, again.stderr
    assert req.read_bytes() == written
    # nor by another server's request (it was replaced: the two Edges of a pool, one folder)
    other = ("request", "--topology", topology, "--server", "fe01.contoso.net", "--offline")
    again = run_lyncpki(*other, "--type", "Default", "--home", home, "--output", req)
    assert again.returncode == 2 and f"holds pending request 1 of {MED}" in again.stderr
    assert req.read_bytes() == written
    store = _store(home, MED)
    assert len(list((store / "keys").iterdir())) == 1
    assert "verify OK" in openssl("req", "-verify", "-in", req, "-noout")

    ok(run_lyncpki("request", "--server", MED, "--clear", str(first[0]["request_id"]),
                   "--home", home))  # fmt: skip
    assert list((store / "keys").iterdir()) == [] and list((store / "requests").iterdir()) == []
    ok(run_lyncpki(*asked, "--output", req))  # the cleared request's file may now be replaced


def test_import_says_what_the_ca_left_out_and_what_was_there_already(tmp_path: Path) -> None:
    """A public CA that drops requested names (they do) was imported without a word; the same
    answer imported twice said "installed" twice; --exportable on an answer whose key was
    made non-exportable turned it exportable (Windows fixes that when the key is made)."""
    home = tmp_path / "home"
    req = tmp_path / "dir01.req"
    ok(run_lyncpki("request", "--topology", CONTOSO, "--server", "dir01.contoso.net",
                   "--type", "Default", "--offline", "--output", req, "--home", home))  # fmt: skip
    asked = set(re.findall(r"DNS:([^,\s]+)", openssl("req", "-in", req, "-noout", "-text")))
    other = OtherCa(tmp_path / "public-ca")
    answer = other.p7b(other.sign(req, sans=["dir.contoso.net"]))
    imported = ("import", "--server", "dir01.contoso.net", answer, "--home", home)

    refused = run_lyncpki(*imported, "--exportable")
    assert refused.returncode == 2 and "exportability is fixed" in refused.stderr, refused.stderr
    first = ok(run_lyncpki(*imported))
    dropped = sorted(asked - {"dir.contoso.net"})
    assert dropped and "warning: the CA left out" in first.stderr
    for name in dropped:
        assert name in first.stderr, (name, first.stderr)
    again = ok(run_lyncpki(*imported, "--json"))
    document = json.loads(again.stdout)
    assert document["already_installed"] and not document["certificate"]["exportable"]
    assert "installed" in first.stdout and "already installed" not in first.stdout


def check_ids(cert: Path, *more: str) -> list[str]:
    """The ids of what `check --cert FILE --offline` finds in a file."""
    process = run_lyncpki("check", "--cert", cert, "--offline", "--json", *more)
    assert "Traceback" not in process.stderr
    return [f["id"] for f in json.loads(process.stdout)["findings"]]


def test_an_answer_written_with_a_utf8_bom_imports_and_checks(lab: Lab) -> None:
    """PowerShell 5's `Out-File -Encoding utf8` and Notepad put a byte-order mark first."""
    req = lab.work / "edge02-internal.req"
    offline_request(lab, "edge02.contoso.net", "Internal", req)
    answer = lab.work / "edge02-internal.cer"
    ok(lab.cli("ca", "issue", req, "--out", answer, "--chain"))
    bom = lab.work / "edge02-internal-bom.cer"
    bom.write_bytes(b"\xef\xbb\xbf" + answer.read_bytes().replace(b"\n", b"\r\n"))
    assert check_ids(bom) == check_ids(answer)
    assert "input.unreadable" not in check_ids(bom)
    result = json.loads(
        ok(lab.cli("import", "--server", "edge02.contoso.net", bom, "--json")).stdout
    )
    assert result["certificate"]["thumbprint"] == thumbprint_of(answer)
    assert result["answered_request"] is not None  # the key of the request is its key


def test_a_pkcs7_without_certificates_is_named(lab: Lab) -> None:
    empty = lab.work / "empty.p7b"
    openssl("crl2pkcs7", "-nocrl", "-outform", "DER", "-out", empty)
    process = lab.cli("import", "--server", "fe01.contoso.net", empty)
    assert process.returncode == 2, process.stdout + process.stderr
    assert "empty.p7b is a PKCS#7 chain that holds no certificate" in process.stderr
    assert "fix:" in process.stderr and "is not a certificate" not in process.stderr
    findings = json.loads(run_lyncpki("check", "--cert", empty, "--json").stdout)["findings"]
    assert [f["id"] for f in findings] == ["input.unreadable"]
    assert "holds no certificate" in findings[0]["message"]
    assert "crl2pkcs7" in findings[0]["fix"]


def test_a_request_on_a_second_edge_says_the_pool_shares_one_certificate(tmp_path: Path) -> None:
    """`request --server edge02` made a second key and request for the Edge pool's certificates
    without a word (a second purchase from a public CA, and av.not-identical later); it now
    says to request on edge01 and copy the .pfx. On edge01 nothing is said."""
    home = tmp_path / "home"
    asked = ("request", "--topology", CONTOSO, "--offline", "--home", home)
    second = ok(run_lyncpki(*asked, "--server", "edge02.contoso.net", "--output", tmp_path / "2"))
    assert "request it once, on edge01.contoso.net" in second.stderr, second.stderr
    assert "av.not-identical" in second.stderr
    first = ok(run_lyncpki(*asked, "--server", "edge01.contoso.net", "--output", tmp_path / "1"))
    assert "request it once" not in first.stderr


def test_a_wildcard_san_is_refused_where_lync_refuses_one(tmp_path: Path) -> None:
    """`--additional-san *.contoso.com` on a Mediation server's Default certificate was written
    into the request without a word; Lync refuses it there (R-GEN-08). Web services take one."""
    home = tmp_path / "home"
    asked = ("request", "--topology", CONTOSO, "--offline", "--home", home,
             "--additional-san", "*.contoso.com")  # fmt: skip
    refused = run_lyncpki(*asked, "--server", MED, "--output", tmp_path / "med.req")
    assert refused.returncode == 2 and "R-GEN-08" in refused.stderr, refused.stderr
    assert not (tmp_path / "med.req").exists()
    web = tmp_path / "web.req"
    ok(run_lyncpki(*asked, "--server", "fe01.contoso.net", "--type", "WebServicesExternal",
                   "--output", web))  # fmt: skip
    assert "DNS:*.contoso.com" in openssl("req", "-in", web, "-noout", "-text")


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [("--org", "O" * 65, "--org is 65 characters"), ("--city", "L" * 129, "--city is 129")],
)
def test_a_subject_value_the_ca_must_refuse_is_refused_before_a_key_is_made(
    tmp_path: Path, option: str, value: str, said: str
) -> None:
    """`--org` of 100 characters made a key and a pending request that every CA refuses
    (policy.subject-size): now refused at once, nothing written."""
    home = tmp_path / "home"
    asked = ("request", "--topology", CONTOSO, "--offline", "--home", home, "--server", MED)
    refused = run_lyncpki(*asked, "--output", tmp_path / "m.req", option, value)
    assert refused.returncode == 2 and said in refused.stderr, refused.stderr
    assert not (tmp_path / "m.req").exists()
    assert not list(home.glob("servers/*/keys/*"))


def test_a_pool_fqdn_longer_than_a_cn_is_refused_with_its_name(tmp_path: Path) -> None:
    """A pool FQDN of 73 characters made `request` fail with 'internal error: ValueError'
    (exit 70) and no JSON under --json. The topology itself is refused now, at the line of
    that FQDN."""
    pool = "p" * 60 + ".contoso.net"
    topology = tmp_path / "long.yaml"
    topology.write_text(CONTOSO.read_text().replace("pool01.contoso.net", pool))
    assert pool in topology.read_text()
    asked = ("request", "--topology", topology, "--offline", "--home", tmp_path / "home",
             "--server", "fe01.contoso.net", "--type", "Default",
             "--output", tmp_path / "x.req")  # fmt: skip
    refused = run_lyncpki(*asked)
    assert refused.returncode == 2, refused.stderr
    line = 1 + next(n for n, text in enumerate(topology.read_text().splitlines()) if pool in text)
    said = "".join(refused.stderr.split())  # wrapped (even mid-word) at any terminal width
    assert f"long.yaml:{line}:" in said
    assert f"'{pool}'is72characters" in said and "atmost64" in said
    document = json.loads(run_lyncpki(*asked, "--json").stdout)
    (issue,) = document["issues"]
    assert issue["line"] == line and "72 characters" in issue["message"]


def test_a_template_the_home_ca_does_not_offer_is_noted(lab: Lab, tmp_path: Path) -> None:
    """`--template WebServr` (a typo) was written into the request without a word and only
    failed at the CA; with a CA in the home, the request says so and names the likely one."""
    process = lab.cli(
        "request", "--topology", CONTOSO, "--server", MED, "--offline", "--output",
        tmp_path / "typo.req", "--template", "WebServr",
    )  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "not offered by this home's CA (did you mean WebServer?)" in process.stderr
    ok(lab.cli("request", "--server", MED, "--clear",
               str(json.loads(ok(lab.cli("certs", "--server", MED, "--json")).stdout)
                   ["certificates"][-1]["request_id"])))  # fmt: skip


def test_one_damaged_store_does_not_hide_the_others(tmp_path: Path) -> None:
    """`certs` stopped at the first store it could not read: every server's certificates were
    hidden behind one damaged store.json. Now the others are listed, the damaged one is
    reported with its fix, and the exit status is 1."""
    home = tmp_path / "home"
    for server, out in (("fe01.contoso.net", "fe01.req"), (MED, "med.req")):
        ok(run_lyncpki("request", "--topology", CONTOSO, "--server", server, "--type", "Default",
                       "--offline", "--home", home, "--output", tmp_path / out))  # fmt: skip
    index = _store(home, "fe01.contoso.net") / "store.json"
    index.write_bytes(index.read_bytes()[:40])
    listed = run_lyncpki("certs", "--home", home)
    assert listed.returncode == 1, listed.stderr
    assert MED in listed.stdout and "fe01.contoso.net cannot be read" in listed.stderr
    assert "backup" in listed.stderr
    document = json.loads(run_lyncpki("certs", "--home", home, "--json").stdout)
    assert {r["server"] for r in document["certificates"]} == {MED}
    assert "fe01.contoso.net" in document["unreadable"][0]["message"]
    assert document["unreadable"][0]["server"] == "fe01.contoso.net"  # for a script
    alone = run_lyncpki("certs", "--home", home, "--server", "fe01.contoso.net")
    assert alone.returncode == 1 and "cannot be read" in alone.stderr  # as with every store
    assert "no certificates" not in alone.stdout


@pytest.mark.parametrize("lost", ["removed", "a folder"])
def test_a_store_whose_index_is_lost_is_reported_not_skipped(tmp_path: Path, lost: str) -> None:
    """A store folder whose store.json was removed (or replaced by a folder) was left out of
    `certs` without a word, as if the server had no store: its keys and certificates are there,
    its index is not, and that is said."""
    home = tmp_path / "home"
    for server, out in (("fe01.contoso.net", "fe01.req"), (MED, "med.req")):
        ok(run_lyncpki("request", "--topology", CONTOSO, "--server", server, "--type", "Default",
                       "--offline", "--home", home, "--output", tmp_path / out))  # fmt: skip
    index = _store(home, "fe01.contoso.net") / "store.json"
    index.unlink()
    if lost == "a folder":
        index.mkdir()
    listed = run_lyncpki("certs", "--home", home, "--json")
    assert listed.returncode == 1, listed.stderr
    document = json.loads(listed.stdout)
    assert {r["server"] for r in document["certificates"]} == {MED}
    (damaged,) = document["unreadable"]
    assert damaged["server"] == "fe01.contoso.net" and "store.json" in damaged["message"]
    assert "backup" in damaged["fix"]


def test_an_index_edited_to_name_paths_is_damage_of_its_store(tmp_path: Path) -> None:
    """A store.json whose key id or thumbprint was edited into a path said "damaged store
    index: bad key id" (no server, no file) or told the user to fix a thumbprint they never
    typed; it is the store's damage, named with its file, like any other."""
    home = tmp_path / "home"
    ok(run_lyncpki("request", "--topology", CONTOSO, "--server", MED, "--type", "Default",
                   "--offline", "--home", home, "--output", tmp_path / "med.req"))  # fmt: skip
    index = _store(home, MED) / "store.json"
    document = json.loads(index.read_text())
    document["pending"][0]["key_id"] = "../../../ca/root"
    index.write_text(json.dumps(document))
    listed = run_lyncpki("certs", "--home", home, "--json")
    assert listed.returncode == 1
    (damaged,) = json.loads(listed.stdout)["unreadable"]
    assert damaged["server"] == MED and "store.json" in damaged["message"]
    assert "bad key id '../../../ca/root'" in damaged["message"] and "backup" in damaged["fix"]


def test_the_global_oauth_request_gives_no_pool_advice(lab: Lab, tmp_path: Path) -> None:
    """`request --server global` said OAuthTokenIssuer was "one certificate for the whole pool
    (fe01, se01, dir01): request it once, on fe01", which `request --server fe01` then refused:
    the global store is where it is requested."""
    process = lab.cli("request", "-t", CONTOSO, "--server", "global", "--offline",
                      "-o", tmp_path / "oauth.req")  # fmt: skip
    assert process.returncode == 0, process.stderr
    assert "note:" not in process.stderr and "whole pool" not in process.stderr
    assert (tmp_path / "oauth.req").read_text().startswith("-----BEGIN NEW CERTIFICATE REQUEST")


def test_two_requests_for_one_file_at_once_never_both_succeed(tmp_path: Path) -> None:
    """fe01 and fe02 requested at the same moment with the same --output: both said "request
    written", the file held one of them, and both waited for an answer (5 runs of 5)."""
    import subprocess
    import sys

    from lab import lab_env

    home = tmp_path / "home"
    env = lab_env(LYNCPKI_STORE_PASSPHRASE="store-pass-phrase-42")
    base = ["request", "--topology", str(CONTOSO), "--type", "Default", "--offline",
            "--home", str(home)]  # fmt: skip
    ok(run_lyncpki(*base, "--server", "fe01.contoso.net", "-o", tmp_path / "first.req", env=env))
    for round_ in range(3):
        same = tmp_path / f"same{round_}.req"
        both = [
            subprocess.Popen(
                [sys.executable, "-m", "lyncpki", *base, "--server", server, "-o", str(same)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for server in ("fe01.contoso.net", "fe02.contoso.net")
        ]
        codes = sorted(p.wait(timeout=120) for p in both)
        errors = "".join(p.stderr.read() for p in both if p.stderr)
        assert codes == [0, 2], (codes, errors)
        assert "holds pending request" in errors, errors
        written = openssl("req", "-in", same, "-noout", "-subject")
        assert "pool01.contoso.net" in written  # one whole request, that of the one that ran
