"""PKCS#12: a .pfx made by `openssl pkcs12 -export` imports with its key; lyncpki's export
opens with `openssl pkcs12 -info` and the password (AES-256, and 3DES/SHA-1 with --legacy);
a key not marked exportable is never exported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import CONTOSO, Lab, lab_env, ok, openssl, openssl_request, run_lyncpki, thumbprint_of
from other_ca import OtherCa

PFX_PASSWORD = "pfx-Pass-4471"


@pytest.mark.parametrize(
    "encryption",
    [[], ["-certpbe", "PBE-SHA1-3DES", "-keypbe", "PBE-SHA1-3DES", "-macalg", "sha1"]],
    ids=["aes256", "3des"],
)
def test_a_pfx_made_by_openssl_imports_with_its_key(
    lab: Lab, tmp_path: Path, encryption: list[str]
) -> None:
    other = OtherCa(tmp_path / "other")
    key, req = openssl_request(
        tmp_path, "rp", "webext.contoso.com", ["webext.contoso.com", "meet.contoso.com"]
    )
    leaf = other.sign(req)
    pfx = tmp_path / "rp.pfx"
    openssl(
        "pkcs12",
        "-export",
        "-inkey",
        key,
        "-in",
        leaf,
        "-certfile",
        other.root,
        "-out",
        pfx,
        "-passout",
        f"pass:{PFX_PASSWORD}",
        "-name",
        "Reverse proxy",
        *encryption,
    )
    server = f"rp-{len(encryption)}.contoso.net"
    process = lab.cli(
        "import", "--server", server, pfx, "--json", LYNCPKI_PFX_PASSWORD=PFX_PASSWORD
    )
    result = json.loads(ok(process).stdout)
    assert result["form"] == "PKCS#12"
    assert result["certificate"]["thumbprint"] == thumbprint_of(leaf)
    assert result["certificate"]["friendly_name"] == "Reverse proxy"
    assert [t["root"] for t in result["trusted"]] == [True]
    rows = json.loads(ok(lab.cli("certs", "--server", server, "--json")).stdout)["certificates"]
    assert rows[0]["has_private_key"] and rows[0]["exportable"]
    # the key went into the store encrypted with the store's passphrase, not in clear
    (stored,) = (lab.home / "servers" / server / "keys").iterdir()
    assert "ENCRYPTED PRIVATE KEY" in stored.read_text()
    same = openssl("pkey", "-in", stored, "-passin", "pass:lab-passphrase-Qx7", "-pubout")
    assert same == openssl("pkey", "-in", key, "-pubout")


def test_a_wrong_pfx_password_is_a_clear_error(lab: Lab, tmp_path: Path) -> None:
    key, cert, pfx = tmp_path / "k", tmp_path / "c", tmp_path / "x.pfx"
    openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-subj",
        "/CN=x.contoso.net",
        "-days",
        "2",
    )
    openssl("pkcs12", "-export", "-inkey", key, "-in", cert, "-out", pfx, "-passout", "pass:right")
    process = lab.cli("import", "--server", "x.contoso.net", pfx, LYNCPKI_PFX_PASSWORD="wrong")
    assert process.returncode == 2
    assert "wrong or missing password" in process.stderr and "Traceback" not in process.stderr


@pytest.mark.parametrize(
    "protection",
    [["-passout", "pass:"], ["-passout", "pass:", "-keypbe", "NONE", "-certpbe", "NONE", "-nomac"]],
    ids=["empty-password", "not-encrypted"],
)
def test_a_pfx_without_a_password_imports_without_one(
    lab: Lab, tmp_path: Path, protection: list[str]
) -> None:
    """A .pfx exported with an empty password, or none at all, opens as Windows' import opens
    it: without --password. One that has a password is still refused without it."""
    key, cert, pfx = tmp_path / "k", tmp_path / "c", tmp_path / "x.pfx"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-subj", "/CN=open.contoso.net", "-days", "2")  # fmt: skip
    openssl("pkcs12", "-export", "-inkey", key, "-in", cert, "-out", pfx, *protection)
    server = f"open{len(protection)}.contoso.net"
    result = json.loads(ok(lab.cli("import", "--server", server, pfx, "--json")).stdout)
    assert result["certificate"]["thumbprint"] == thumbprint_of(cert)
    (stored,) = (lab.home / "servers" / server / "keys").iterdir()
    assert "ENCRYPTED PRIVATE KEY" in stored.read_text()  # stored under the store's passphrase
    same = openssl("pkey", "-in", stored, "-passin", "pass:lab-passphrase-Qx7", "-pubout")
    assert same == openssl("pkey", "-in", key, "-pubout")

    protected = tmp_path / "protected.pfx"
    openssl("pkcs12", "-export", "-inkey", key, "-in", cert, "-out", protected,
            "-passout", "pass:right")  # fmt: skip
    refused = lab.cli("import", "--server", "other.contoso.net", protected)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "needs a password" in refused.stderr and "Traceback" not in refused.stderr
    assert not (lab.home / "servers" / "other.contoso.net" / "store.json").exists()


@pytest.mark.parametrize("legacy", [False, True], ids=["aes256", "legacy-3des"])
def test_export_opens_with_openssl_and_the_password(lab: Lab, tmp_path: Path, legacy: bool) -> None:
    server = "edge01.contoso.net"
    req = tmp_path / "edge-internal.req"
    process = lab.cli(
        "request",
        "--topology",
        CONTOSO,
        "--server",
        server,
        "--type",
        "Internal",
        "--offline",
        "--output",
        req,
    )
    ok(process)
    answer = tmp_path / "edge-internal.p7b"
    ok(lab.cli("ca", "issue", req, "--out", tmp_path / "leaf.cer"))
    openssl(
        "crl2pkcs7",
        "-nocrl",
        "-certfile",
        tmp_path / "leaf.cer",
        "-certfile",
        lab.home / "ca" / "issuing.crt",
        "-certfile",
        lab.home / "ca" / "root.crt",
        "-outform",
        "DER",
        "-out",
        answer,
    )
    ok(lab.cli("import", "--server", server, answer))
    thumbprint = thumbprint_of(tmp_path / "leaf.cer")
    ok(
        lab.cli(
            "assign",
            "--server",
            server,
            "--type",
            "Internal",
            "--thumbprint",
            thumbprint,
            "--topology",
            CONTOSO,
        )
    )
    pfx = tmp_path / "edge.pfx"
    more = ["--legacy"] if legacy else []
    ok(
        lab.cli(
            "export",
            "--server",
            server,
            "--type",
            "Internal",
            "--pfx",
            pfx,
            *more,
            LYNCPKI_PFX_PASSWORD=PFX_PASSWORD,
        )
    )
    assert (pfx.stat().st_mode & 0o777) == 0o600
    info = openssl("pkcs12", "-info", "-in", pfx, "-passin", f"pass:{PFX_PASSWORD}", "-nokeys")
    if legacy:
        assert "pbeWithSHA1And3-KeyTripleDES-CBC" in info and "MAC: sha1" in info
    else:
        assert "AES-256-CBC" in info and "MAC: sha256" in info
    assert info.count("BEGIN CERTIFICATE") == 3  # the certificate, the issuing CA, the root
    wrong = openssl("pkcs12", "-info", "-in", pfx, "-passin", "pass:nope", "-nokeys", check=False)
    assert "BEGIN CERTIFICATE" not in wrong
    # an older .pfx (maybe the only copy of another key) is replaced only with --replace; a
    # file of another kind (the CA's answer) never
    export = ("export", "--server", server, "--type", "Internal", *more)
    before = pfx.read_bytes()
    refused = lab.cli(*export, "--pfx", pfx, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)
    assert refused.returncode == 2 and "--replace" in refused.stderr, refused.stderr
    assert pfx.read_bytes() == before
    ok(lab.cli(*export, "--pfx", pfx, "--replace", LYNCPKI_PFX_PASSWORD=PFX_PASSWORD))
    assert pfx.read_bytes() != before  # written again (new encryption salt)
    kept = answer.read_bytes()
    refused = lab.cli(*export, "--pfx", answer, "--replace", LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)
    assert refused.returncode == 2 and "is not a .pfx" in refused.stderr, refused.stderr
    assert answer.read_bytes() == kept
    # nor into what the home keeps (ca issue -o was refused there, export was not)
    inside = lab.home / "ca" / f"export-{int(legacy)}.pfx"
    refused = lab.cli(*export, "--pfx", inside, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)
    assert refused.returncode == 2 and "the CA's folder" in refused.stderr, refused.stderr
    assert not inside.exists()
    # and the other server of the Edge pool imports it (R-EDGE-03: one certificate for the pool)
    ok(
        lab.cli(
            "import",
            "--server",
            f"edge02-{int(legacy)}.contoso.net",
            pfx,
            LYNCPKI_PFX_PASSWORD=PFX_PASSWORD,
        )
    )


def test_a_key_not_exportable_is_never_exported(lab: Lab, tmp_path: Path) -> None:
    ok(
        lab.cli(
            "request",
            "--topology",
            CONTOSO,
            "--server",
            "fe01.contoso.net",
            "--type",
            "Default",
            "--offline",
            "--output",
            tmp_path / "d.req",
        )
    )
    ok(lab.cli("ca", "issue", tmp_path / "d.req", "--out", tmp_path / "d.cer", "--chain"))
    ok(lab.cli("import", "--server", "fe01.contoso.net", tmp_path / "d.cer"))
    rows = json.loads(ok(lab.cli("certs", "--server", "fe01.contoso.net", "--json")).stdout)
    cert = next(
        r for r in rows["certificates"] if r["thumbprint"] == thumbprint_of(tmp_path / "d.cer")
    )
    assert cert["exportable"] is False  # internal Front End certificates: R-GEN-12
    pfx = tmp_path / "nope.pfx"
    process = lab.cli(
        "export",
        "--server",
        "fe01.contoso.net",
        "--thumbprint",
        cert["thumbprint"],
        "--pfx",
        pfx,
        LYNCPKI_PFX_PASSWORD=PFX_PASSWORD,
    )
    assert process.returncode == 2 and "not exportable" in process.stderr
    assert not pfx.exists()


@pytest.mark.parametrize(
    ("made", "words"),
    [
        (["-nokeys"], "the PKCS#12 file holds a certificate but no private key"),
        (["-nocerts", "-inkey", "{other}"], "its private key matches none of its certificates"),
    ],
    ids=["no-key", "other-key"],
)
def test_a_pfx_without_the_key_of_its_certificate_is_named(
    lab: Lab, tmp_path: Path, made: list[str], words: str
) -> None:
    """`openssl pkcs12 -export -nokeys`, or a key exported with an other key's certificate:
    import and check --cert say which, with a fix, not 'holds no certificate'."""
    other, cert, pfx = tmp_path / "other.key", tmp_path / "cert.pem", tmp_path / "x.pfx"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", tmp_path / "k",
            "-out", cert, "-subj", "/CN=nokey.contoso.net", "-days", "2")  # fmt: skip
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", other)
    args = [a.format(other=other) for a in made]
    certs = ["-certfile", cert] if "-nocerts" in made else ["-in", cert]
    openssl("pkcs12", "-export", *args, *certs, "-out", pfx, "-passout", f"pass:{PFX_PASSWORD}")
    process = lab.cli(
        "import", "--server", "nokey.contoso.net", pfx, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD
    )
    assert process.returncode == 2, process.stdout + process.stderr
    assert words in process.stderr and "fix:" in process.stderr
    assert "holds no certificate" not in process.stderr
    # the password from the environment, as --help says (check --cert ignored it)
    checked = run_lyncpki(
        "check", "--cert", pfx, "--json", env={**lab_env(), "LYNCPKI_PFX_PASSWORD": PFX_PASSWORD}
    )
    (finding,) = json.loads(checked.stdout)["findings"]
    assert finding["id"] == "input.unreadable" and words in finding["message"]
    assert "export" in finding["fix"] and "key" in finding["fix"]


def _subjects_in(pfx: Path) -> list[str]:
    """The subjects of the CA certificates openssl finds in the .pfx."""
    text = openssl("pkcs12", "-in", pfx, "-passin", f"pass:{PFX_PASSWORD}", "-nokeys", "-cacerts")
    return [
        line.split("=", 1)[1].strip() for line in text.splitlines() if line.startswith("subject")
    ]


def test_an_export_without_a_valid_path_ships_only_its_issuers(lab: Lab, tmp_path: Path) -> None:
    """Without a validated path, export put every CA the store trusts into the .pfx, and the
    server importing it then trusted them (an unrelated root among them; found by an
    exploratory test). Now only the CA certificates that name the certificate's issuer go,
    with a warning: none for a self-signed certificate, the root for an expired leaf."""
    server = "rp.contoso.net"
    other = OtherCa(tmp_path / "other")
    unrelated = OtherCa(tmp_path / "unrelated", name="Unrelated Root CA")
    ok(lab.cli("import", "--server", server, unrelated.root))
    key, req = openssl_request(tmp_path, "old", "old.contoso.com", ["old.contoso.com"])
    expired = other.sign(req, start="20190601000000Z", end="20200601000000Z")
    pfx_in = tmp_path / "old.pfx"
    openssl("pkcs12", "-export", "-inkey", key, "-in", expired, "-certfile", other.root,
            "-out", pfx_in, "-passout", f"pass:{PFX_PASSWORD}")  # fmt: skip
    ok(lab.cli("import", "--server", server, pfx_in, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD))
    self_key, self_cert = tmp_path / "self.key", tmp_path / "self.crt"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", self_key,
            "-out", self_cert, "-subj", "/CN=self.contoso.com", "-days", "30")  # fmt: skip
    self_pfx = tmp_path / "self.pfx"
    openssl("pkcs12", "-export", "-inkey", self_key, "-in", self_cert, "-out", self_pfx,
            "-passout", f"pass:{PFX_PASSWORD}")  # fmt: skip
    ok(lab.cli("import", "--server", server, self_pfx, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD))

    for cert, issuers in ((expired, ["CN = Other Public CA"]), (self_cert, [])):
        out = tmp_path / f"{cert.stem}-out.pfx"
        export = ("export", "--server", server, "--thumbprint", thumbprint_of(cert))
        process = ok(lab.cli(*export, "--pfx", out, "--json", LYNCPKI_PFX_PASSWORD=PFX_PASSWORD))
        said = json.loads(process.stdout)
        assert said["chain"] == len(issuers)
        if cert == expired:  # its path validates inside its own validity: it is the one out
            assert said["chain_validated"] is True
            assert said["warning"] == "the certificate expired on 2020-06-01"
        else:
            assert said["chain_validated"] is False
            assert "does not chain to a root this store trusts" in said["warning"]
        assert _subjects_in(out) == issuers  # never "Unrelated Root CA"


def test_a_pfx_is_known_by_its_content_whatever_its_name(lab: Lab, tmp_path: Path) -> None:
    """A .pfx renamed .bin was read as a PKCS#12 but its key not stored ("a passphrase is
    needed", no fix, even with one set), and the failure left an empty store behind."""
    key, cert, pfx = tmp_path / "k", tmp_path / "c", tmp_path / "renamed.bin"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-subj", "/CN=bin.contoso.net", "-days", "2")  # fmt: skip
    openssl("pkcs12", "-export", "-inkey", key, "-in", cert, "-out", pfx,
            "-passout", f"pass:{PFX_PASSWORD}")  # fmt: skip
    home = tmp_path / "fresh"
    env = {k: v for k, v in lab_env().items() if not k.startswith("LYNCPKI_")}
    asked = ("import", "--server", "bin.contoso.net", pfx, "--home", home, "--json")
    refused = run_lyncpki(*asked, env=env | {"LYNCPKI_PFX_PASSWORD": PFX_PASSWORD})
    assert refused.returncode == 2, refused.stderr
    said = json.loads(refused.stdout)
    assert "passphrase" in said["message"] and "LYNCPKI_STORE_PASSPHRASE" in said["fix"]
    assert not (home / "servers" / "bin.contoso.net").exists()  # nothing left behind
    ok(lab.cli(*asked[:4], LYNCPKI_PFX_PASSWORD=PFX_PASSWORD))  # in the lab: a passphrase
    rows = json.loads(ok(lab.cli("certs", "--server", "bin.contoso.net", "--json")).stdout)
    assert rows["certificates"][0]["thumbprint"] == thumbprint_of(cert)
    assert rows["certificates"][0]["has_private_key"]


def test_a_wrong_store_passphrase_names_the_stores_variable(tmp_path: Path) -> None:
    """The fix named LYNCPKI_CA_PASSPHRASE only, though the key was a server store's."""
    key, cert, pfx = tmp_path / "k", tmp_path / "c", tmp_path / "x.pfx"
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
            "-subj", "/CN=x.contoso.net", "-days", "2")  # fmt: skip
    openssl("pkcs12", "-export", "-inkey", key, "-in", cert, "-out", pfx,
            "-passout", f"pass:{PFX_PASSWORD}")  # fmt: skip
    base = {k: v for k, v in lab_env().items() if not k.startswith("LYNCPKI_")}
    base["LYNCPKI_PFX_PASSWORD"] = PFX_PASSWORD
    home = ("--home", tmp_path / "home")
    right = base | {"LYNCPKI_STORE_PASSPHRASE": "the-right-passphrase"}
    ok(run_lyncpki("import", pfx, "--server", "x.contoso.net", *home, env=right))
    wrong = base | {"LYNCPKI_STORE_PASSPHRASE": "the-wrong-passphrase"}
    export = ("export", "--server", "x.contoso.net", "--thumbprint", thumbprint_of(cert))
    refused = run_lyncpki(*export, "--pfx", tmp_path / "out.pfx", *home, env=wrong)
    assert refused.returncode == 2 and "wrong passphrase" in refused.stderr
    assert "LYNCPKI_STORE_PASSPHRASE" in refused.stderr
    assert not (tmp_path / "out.pfx").exists()


def test_a_key_file_replaced_by_another_key_is_refused_at_export(lab: Lab, tmp_path: Path) -> None:
    """A store's key file replaced by another key of the store: export ended with an internal
    error (exit 70, pyca's "keys do not match"); it is a refusal that says which key."""

    thumbprints = []
    for n in (1, 2):
        req, cer = tmp_path / f"k{n}.req", tmp_path / f"k{n}.cer"
        ok(lab.cli("request", "--topology", CONTOSO, "--server", "edge01.contoso.net",
                   "--type", "Internal", "--offline", "--output", req))  # fmt: skip
        ok(lab.cli("ca", "issue", req, "-o", cer, "--chain"))
        ok(lab.cli("import", "--server", "edge01.contoso.net", cer))
        thumbprints.append(thumbprint_of(cer))
    store = json.loads((lab.home / "servers" / "edge01.contoso.net" / "store.json").read_text())
    keys = {c["thumbprint"]: c["key_id"] for c in store["personal"]}
    folder = lab.home / "servers" / "edge01.contoso.net" / "keys"
    first, second = (folder / f"{keys[t]}.key" for t in thumbprints)
    first.write_bytes(second.read_bytes())
    refused = lab.cli("export", "--server", "edge01.contoso.net", "--thumbprint", thumbprints[0],
                      "--pfx", tmp_path / "x.pfx", LYNCPKI_PFX_PASSWORD=PFX_PASSWORD)  # fmt: skip
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "is not the key of" in refused.stderr and keys[thumbprints[0]] in refused.stderr
    assert not (tmp_path / "x.pfx").exists()


def test_a_root_the_pfx_brings_beside_the_path_is_not_trusted(lab: Lab, tmp_path: Path) -> None:
    """A .pfx with its chain and an unrelated root (made by openssl) made that root trusted
    on the server: from then on anything it signed passed assign's chain check there. Only
    the CAs on the certificate's own path are trusted; the other is named, not trusted."""
    other = OtherCa(tmp_path / "other")
    stranger = OtherCa(tmp_path / "stranger", name="Stranger Root")
    key, req = openssl_request(tmp_path, "web", "web.contoso.com", ["web.contoso.com"])
    leaf = other.sign(req)
    pfx = tmp_path / "web.pfx"
    _, stray_req = openssl_request(tmp_path, "stray", "stray.contoso.com", ["stray.contoso.com"])
    stray = other.sign(stray_req)  # another end-entity certificate, without its key
    bundled = tmp_path / "cas.pem"
    bundled.write_text(
        Path(stranger.root).read_text() + Path(other.root).read_text() + Path(stray).read_text()
    )
    openssl("pkcs12", "-export", "-inkey", key, "-in", leaf, "-certfile", bundled,
            "-out", pfx, "-passout", f"pass:{PFX_PASSWORD}")  # fmt: skip
    process = lab.cli(
        "import", "--server", "web-strange.contoso.net", pfx, "--json",
        LYNCPKI_PFX_PASSWORD=PFX_PASSWORD,
    )  # fmt: skip
    result = json.loads(ok(process).stdout)
    trusted = {t["thumbprint"] for t in result["trusted"]}
    assert trusted == {thumbprint_of(other.root)}
    assert thumbprint_of(stranger.root) not in trusted
    assert result["not_trusted"] and "Stranger Root" in result["not_trusted"][0]
    assert result["not_installed"] == ["CN=stray.contoso.com"]  # named, not dropped silently
    store = json.loads(
        (lab.home / "servers" / "web-strange.contoso.net" / "store.json").read_text()
    )
    assert thumbprint_of(stranger.root) not in json.dumps(store)


@pytest.mark.parametrize("damage", ["emptied", "replaced"])
def test_importing_the_pfx_again_repairs_its_key_file(
    lab: Lab, tmp_path: Path, damage: str
) -> None:
    """Export refuses a certificate whose key file was emptied or replaced, and says "import
    the certificate again with its own key (a .pfx)"; doing so said "already installed" and
    changed nothing. The key file is written again from the .pfx, and export works (openssl
    reads the result with the certificate's own key)."""
    server = f"repair-{damage}.contoso.net"
    other = OtherCa(tmp_path / "other")
    key, req = openssl_request(tmp_path, "r", server, [server])
    leaf = other.sign(req)
    pfx = tmp_path / "r.pfx"
    openssl("pkcs12", "-export", "-inkey", key, "-in", leaf, "-certfile", other.root,
            "-out", pfx, "-passout", f"pass:{PFX_PASSWORD}")  # fmt: skip
    ok(lab.cli("import", "--server", server, pfx, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD))
    (stored,) = (lab.home / "servers" / server / "keys").iterdir()
    if damage == "emptied":
        stored.write_bytes(b"")
    else:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                "-aes256", "-pass", "pass:lab-passphrase-Qx7", "-out", stored)  # fmt: skip
    export = ("export", "--server", server, "--thumbprint", thumbprint_of(leaf),
              "--pfx", tmp_path / "out.pfx")  # fmt: skip
    assert lab.cli(*export, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD).returncode == 2
    ok(lab.cli("import", "--server", server, pfx, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD))
    ok(lab.cli(*export, LYNCPKI_PFX_PASSWORD=PFX_PASSWORD))
    exported_key = openssl("pkcs12", "-in", tmp_path / "out.pfx", "-nocerts", "-nodes",
                           "-passin", f"pass:{PFX_PASSWORD}")  # fmt: skip
    (tmp_path / "exported.key").write_text(exported_key)
    assert openssl("pkey", "-in", tmp_path / "exported.key", "-pubout") == openssl(
        "pkey", "-in", key, "-pubout"
    )
