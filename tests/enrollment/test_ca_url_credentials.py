"""A CA account's password in the CA's URL (`--ca http://ACCOUNT:PASSWORD@host`): httpx logged
in with it, and the URL was then kept in the store (a pending request's CA, a certificate's
source), listed by `certs --json`, shown in every "cannot reach" message and written into the
deploy reports (0644). It is refused now, wherever a CA URL is taken, pointing to --ca-account
and $LYNCPKI_CA_PASSWORD; a URL an earlier version kept is never shown with its password."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab import ACCOUNTS, APPROVAL_TEMPLATE, CONTOSO, Lab, lab_env, ok, run_lyncpki
from lyncpki.ca.client import CaClient, CaClientError
from lyncpki.ca_url import redact_text, redact_url, without_credentials
from lyncpki.wizard.pages import _url_problem

REQUESTER, (_, PASSWORD) = "fe-requester", ACCOUNTS["fe-requester"]


def _with_password(url: str) -> str:
    return url.replace("http://", f"http://{REQUESTER}:{PASSWORD}@")


def _everything_under(folder: Path) -> str:
    return "".join(p.read_bytes().decode("latin-1") for p in folder.rglob("*") if p.is_file())


def test_request_refuses_a_password_in_the_ca_url(lab: Lab, tmp_path: Path) -> None:
    home = tmp_path / "home"
    for json_flag in ((), ("--json",)):
        process = run_lyncpki(
            "request",
            "--home",
            home,
            "--topology",
            CONTOSO,
            "--server",
            "fe01.contoso.net",
            "--type",
            "Default",
            "--ca",
            _with_password(lab.url),
            *json_flag,
            env=lab_env(LYNCPKI_STORE_PASSPHRASE="store pass phrase 1"),
        )
        said = process.stdout + process.stderr
        assert process.returncode == 2, said
        assert "Traceback" not in said
        assert PASSWORD not in said
        assert "ACCOUNT:PASSWORD@" in said and "--ca-account" in said
        assert "LYNCPKI_CA_PASSWORD" in said and "--ca-password-file" in said
    assert not home.exists() or PASSWORD not in _everything_under(home)


def test_deploy_refuses_a_password_in_the_ca_url(tmp_path: Path) -> None:
    home = tmp_path / "dep"
    process = run_lyncpki(
        "deploy", CONTOSO, "--home", home, "--ca", "http://a:DeploySecret-77@127.0.0.1:9",
        "--ca-account", "a",
        env=lab_env(LYNCPKI_CA_PASSWORD="x", LYNCPKI_STORE_PASSPHRASE="store pass phrase 1"),
    )  # fmt: skip
    said = process.stdout + process.stderr
    assert process.returncode == 2, said
    assert "DeploySecret-77" not in said and "--ca-account" in said
    assert not home.exists() or "DeploySecret-77" not in _everything_under(home)


def test_the_client_and_the_wizard_refuse_it_and_say_it_without_the_password() -> None:
    with pytest.raises(CaClientError) as refused:
        CaClient("http://acct:Pa55-word/x#y@127.0.0.1:9")
    assert "Pa55" not in refused.value.message and refused.value.code == "config"
    assert "--ca-account" in (refused.value.fix or "")
    problem = _url_problem("https://acct:Pa55-word@ca.contoso.net")
    assert problem is not None and "Pa55" not in problem
    assert _url_problem("https://ca.contoso.net:8443") is None
    assert redact_url("http://a:b/c@h:1/p") == "http://***@h:1/p"
    assert redact_text("cannot reach http://a:secret@h/x: no") == "cannot reach http://***@h/x: no"
    assert without_credentials("http://a:b@h:1/") == "http://h:1/"


def test_a_url_kept_with_a_password_by_an_earlier_version_is_never_shown(
    lab: Lab, tmp_path: Path
) -> None:
    """A pending request whose CA URL an earlier version kept with the password: `certs` lists
    it without, and `--retrieve` asks the URL without it (the error names it so)."""
    home = tmp_path / "home"
    env = lab_env(LYNCPKI_STORE_PASSPHRASE="store pass phrase 1", LYNCPKI_CA_PASSWORD=PASSWORD)
    made = ok(
        run_lyncpki(
            "request",
            "--home",
            home,
            "--topology",
            CONTOSO,
            "--server",
            "dir01.contoso.net",
            "--type",
            "Default",
            "--template",
            APPROVAL_TEMPLATE,
            "--ca",
            lab.url,
            "--ca-account",
            REQUESTER,
            "--json",
            env=env,
        )
    )
    (outcome,) = json.loads(made.stdout)["requests"]
    assert outcome["status"] == "pending"
    index = home / "servers" / "dir01.contoso.net" / "store.json"
    data = json.loads(index.read_text())
    data["pending"][0]["ca_url"] = f"http://{REQUESTER}:{PASSWORD}@127.0.0.1:9"  # nothing there
    index.write_text(json.dumps(data))
    listed = ok(run_lyncpki("certs", "--home", home, "--server", "dir01.contoso.net", "--json",
                            env=env))  # fmt: skip
    assert PASSWORD not in listed.stdout
    assert "http://127.0.0.1:9" in listed.stdout
    for json_flag in ((), ("--json",)):
        fetched = run_lyncpki(
            "request",
            "--home",
            home,
            "--server",
            "dir01.contoso.net",
            "--retrieve",
            str(outcome["ca_request_id"]),
            *json_flag,
            env=env,
        )
        said = fetched.stdout + fetched.stderr
        assert fetched.returncode == 2, said
        assert "127.0.0.1:9" in said and PASSWORD not in said
