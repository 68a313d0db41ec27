"""deploy serves its home's CA on the port its URLs name. When another home's `ca serve` held
that port, deploy took it for its own: it sent every request there with its account's password
(each refused), and the failed logins locked loopback clients out. It now refuses at once."""

from __future__ import annotations

import json
from pathlib import Path

from lab import CONTOSO, free_port, lab_env, ok, run_lyncpki, start_serve


def test_deploy_refuses_a_port_another_ca_serves(tmp_path: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    other, mine = tmp_path / "other", tmp_path / "mine"
    for home in (other, mine):
        ok(run_lyncpki("ca", "init", "--home", home, "--base-url", url, "--topology", CONTOSO,
                       "--root-key", "rsa2048"))  # fmt: skip
    service = start_serve(other, port, tmp_path / "other.log")
    try:
        refused = run_lyncpki("deploy", CONTOSO, "--home", mine, "--no-live")
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert f"port {port}" in refused.stderr and "another lyncpki CA" in refused.stderr
        audit = json.loads(ok(run_lyncpki("ca", "audit", "--json", "--home", other)).stdout)
        sent = [a for a in audit if a["actor"] == "lyncpki-deploy" or a["outcome"] != "ok"]
        assert not sent, sent[:3]  # no request, no failed login reached the other CA
    finally:
        service.terminate()
        service.wait(30)
    again = run_lyncpki("deploy", CONTOSO, "--home", mine, "--no-live", env=lab_env())
    assert again.returncode == 0, again.stdout + again.stderr


def test_deploy_names_its_own_homes_service_on_the_port(tmp_path: Path) -> None:
    """`ca serve --home H` left running (as the README's check section suggests), deploy of
    H blamed "a `lyncpki ca serve` of another home?"; it is this home's own, said so, with the
    two ways on."""
    port = free_port()
    home = tmp_path / "home"
    ok(run_lyncpki("ca", "init", "--home", home, "--base-url", f"http://127.0.0.1:{port}",
                   "--topology", CONTOSO, "--root-key", "rsa2048"))  # fmt: skip
    service = start_serve(home, port, tmp_path / "serve.log")
    try:
        refused = run_lyncpki("deploy", CONTOSO, "--home", home, "--no-live")
        said = " ".join(refused.stderr.split())
        assert refused.returncode == 2, refused.stdout + refused.stderr
        assert "this home's own CA service" in said and "another home" not in said
        assert f"--ca http://127.0.0.1:{port}" in said
    finally:
        service.terminate()
        service.wait(30)
