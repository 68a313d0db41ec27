"""`lyncpki deploy` of the example topology, end to end, in a fresh home, as `make demo` runs it:
every planned certificate assigned, `check` clean, openssl verify -crl_check passing on every
assigned certificate, the handshake table complete with the revoked handshake refused; a second
run changes nothing; a run killed with SIGKILL is completed by the next, nothing issued twice;
--dry-run touches nothing; --renew-within renews."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from lab import CONTOSO, lab_env, ok, openssl, run_lyncpki, thumbprint_of
from other_ca import OtherCa

# The pairs of examples/contoso.yaml that talk in Lync, counted by hand from the topology
# (proof.py's docstring gives the rules): the Front End pool fe01+fe02 a ring (2); it and
# se01 both ways over the larger pool (2 x 2); dir01, med01 and pchat01 each both ways with
# the Front End pool (2 x 2) and with se01 (2 x 1): 3 x 6; the Edge pool edge01+edge02 with
# each (2 x 2, twice). Each pair over TLS 1.3; the first of each of the 9 kinds (Front End with
# Front End, and each of Director, Edge, Mediation, Persistent Chat with a Front End both
# ways) also over TLS 1.2; and the revoked certificate against a Front End over both.
PAIRS = 2 + 4 + 3 * 6 + 2 * 4
KINDS = 9
EXPECTED_HANDSHAKES = PAIRS + KINDS + 2
SERVERS = 8  # with a certificate for mutual TLS: fe01, fe02, se01, dir01, med01, pchat01, edge01/02
PLANNED = 18  # `lyncpki plan examples/contoso.yaml` rows (tests/planning checks them by hand)


def demo_env() -> dict[str, str]:
    env = lab_env()
    env.pop("LYNCPKI_CA_PASSPHRASE")  # as on a fresh machine: deploy generates one
    return env


def deploy(home: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return run_lyncpki("deploy", CONTOSO, "--home", home, *more, env=demo_env(), timeout=300)


def start_deploy(home: Path) -> subprocess.Popen[bytes]:
    """`lyncpki deploy` started in the background, quiet."""
    return subprocess.Popen(
        [sys.executable, "-m", "lyncpki", "deploy", str(CONTOSO), "--home", str(home)],
        env=demo_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_while_running(child: subprocess.Popen[bytes], reached: Callable[[], bool]) -> None:
    """Until `reached()`, failing if the child ends first or two minutes pass."""
    deadline = time.monotonic() + 120
    while not reached():
        assert child.poll() is None and time.monotonic() < deadline, "deploy ended too soon"
        time.sleep(0.005)


def report(home: Path) -> dict:  # type: ignore[type-arg]
    return json.loads((home / "report.json").read_text())  # type: ignore[no-any-return]


def issued_by_deploy(home: Path) -> list[dict]:  # type: ignore[type-arg]
    rows = json.loads(
        ok(run_lyncpki("ca", "list", "--json", "--home", home, env=demo_env())).stdout
    )
    return [r for r in rows if r["requester"] == "lyncpki-deploy"]


def tree(home: Path) -> dict[str, str]:
    return {
        str(p.relative_to(home)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted((home / "servers").rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("deploy") / "demo-data"
    process = deploy(home)
    assert process.returncode == 0, process.stdout + process.stderr
    (home.parent / "stderr.txt").write_text(process.stderr)  # its bars, as they ended
    assert "deployed and proved" in process.stdout
    assert str(home / "report.html") in process.stdout
    return home


def test_every_planned_certificate_is_assigned_and_checked(deployed: Path) -> None:
    doc = report(deployed)
    assert doc["schema"] == "lyncpki.deploy/1" and doc["passed"]
    assert doc["summary"]["planned_certificates"] == PLANNED
    assert doc["check"]["summary"]["errors"] == 0
    # every (server, usage) of the plan has a certificate assigned
    plan = json.loads(ok(run_lyncpki("plan", CONTOSO, "--json")).stdout)
    rows = json.loads(
        ok(run_lyncpki("certs", "--home", deployed, "--json", env=demo_env())).stdout
    )["certificates"]
    assigned = {(r["server"], r["type"]) for r in rows if r["state"] == "assigned"}
    for cert in plan["certificates"]:
        stores = ["global"] if cert["target"] == "global" else cert["servers"] or [cert["target"]]
        for server in stores:
            for usage in cert["usages"]:
                assert (server, usage) in assigned, (server, usage)
    assert len(issued_by_deploy(deployed)) == PLANNED  # the Edge pool shares its certificates


def test_openssl_verifies_every_assigned_certificate_with_crl_checks(deployed: Path) -> None:
    crl = deployed / "publish" / "crl" / "lyncpki-issuing-ca.crl.pem"
    root, issuing = deployed / "ca" / "root.crt", deployed / "ca" / "issuing.crt"

    def verify(cert: Path) -> str:
        return openssl(
            "verify",
            "-crl_check",
            "-CAfile",
            root,
            "-untrusted",
            issuing,
            "-CRLfile",
            crl,
            cert,
            check=False,
        )

    checked = 0
    for cert in sorted((deployed / "servers").glob("*/certs/*.crt")):
        result = verify(cert)
        assert result.strip().endswith(": OK"), result
        checked += 1
    assert checked >= PLANNED
    assert "certificate revoked" in verify(deployed / "proof" / "revoked.crt")


def test_the_handshake_table_is_complete_and_the_revoked_one_refused(deployed: Path) -> None:
    proof = report(deployed)["proof"]
    assert len(proof) == EXPECTED_HANDSHAKES
    assert all(h["proved"] for h in proof)
    accepted = [h for h in proof if h["expected"] == "accepted"]
    assert len(accepted) == PAIRS + KINDS and all(h["result"] == "accepted" for h in accepted)
    assert sum(1 for h in accepted if h["version"] == "TLSv1.2") == KINDS
    assert {h["version"] for h in accepted} == {"TLSv1.2", "TLSv1.3"}
    refused = [h for h in proof if h["expected"] == "refused"]
    assert len(refused) == 2 and all(h["result"] == "refused" for h in refused)
    assert all("revoked" in h["detail"] for h in refused), refused
    pairs = {frozenset((h["client"], h["server"])) for h in accepted}
    assert frozenset(("edge01.contoso.net", "fe02.contoso.net")) in pairs
    assert frozenset(("fe01.contoso.net", "se01.contoso.net")) in pairs
    # every server proven as a client and as a server (before, fe01 was never a server, nor
    # was any Director, Edge, Mediation or Persistent Chat server)
    assert len({h["client"] for h in accepted}) == len({h["server"] for h in accepted}) == SERVERS
    html = (deployed / "report.html").read_text()
    assert html.count('data-proved="true"') == EXPECTED_HANDSHAKES


def test_the_bars_count_placements_handshakes_and_the_report(deployed: Path) -> None:
    """The check's and the live proof's bars said 0/1 until done (at 400 servers, 6 minutes
    of it), and the report's half minute after them had none."""
    bars = {
        line.split()[0] if not line.startswith("live proof") else "live proof": line.split()[-2]
        for line in (deployed.parent / "stderr.txt").read_text().splitlines()
        if "━" in line
    }
    plan = json.loads(ok(run_lyncpki("plan", CONTOSO, "--json")).stdout)
    # one store each server it is installed on; the OAuth certificate's: the global one
    placed = sum(
        1 if c["target"] == "global" else len(c["servers"]) or 1 for c in plan["certificates"]
    )
    assert bars["check"] == f"{placed}/{placed}", bars
    assert bars["live proof"] == f"{EXPECTED_HANDSHAKES}/{EXPECTED_HANDSHAKES}", bars
    assert bars["report"] == "2/2", bars


def test_the_proof_reads_each_store_once(deployed: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`_proof` read each server's store index twice (once for the slot, once for the entry)."""
    from collections import Counter

    from lyncpki.deployment.ca_setup import open_or_create
    from lyncpki.deployment.deploy import _proof
    from lyncpki.planning import plan
    from lyncpki.store import ServerStore, resolve_store_passphrase
    from lyncpki.topology import load_topology

    for name in [n for n in os.environ if n.startswith("LYNCPKI_")]:
        monkeypatch.delenv(name)  # the home's generated passphrase, as deploy found it
    opened = open_or_create(deployed, [], demo=False)
    secret = resolve_store_passphrase(deployed, file_option=False)
    reads: Counter[str] = Counter()
    read = ServerStore.read

    def counted(self: ServerStore) -> object:
        reads[self.server] += 1
        return read(self)

    class Quiet:
        def phase(self, name: str, total: int) -> None: ...
        def advance(self, count: int = 1) -> None: ...
        def note(self, text: str) -> None: ...

    monkeypatch.setattr(ServerStore, "read", counted)
    topology = load_topology(CONTOSO)
    try:
        made = _proof(plan(topology), deployed, opened.ca, secret, topology, [], Quiet())
    finally:
        opened.ca.engine.dispose()
    assert len(made) == EXPECTED_HANDSHAKES and all(h.proved for h in made)
    assert len(reads) == SERVERS and set(reads.values()) == {1}, reads


def test_check_after_deploy_says_how_to_serve_the_crls_and_the_advice_works(
    deployed: Path, tmp_path: Path
) -> None:
    """deploy serves its CA only while it runs: a `check` after it cannot fetch any CRL. It said
    "publish the CRL there" for each certificate; it now says which command serves them, and
    once that command runs, as given, the same check passes."""
    first = run_lyncpki("check", "--home", deployed, "--json", env=demo_env())
    assert first.returncode == 1, first.stdout + first.stderr
    doc = json.loads(first.stdout)
    assert any(f["id"] == "cdp.unreachable" for f in doc["findings"])
    advice = [n for n in doc["notes"] if "lyncpki ca serve" in n]
    assert len(advice) == 1, doc["notes"]
    command = advice[0].split("(", 1)[1].split(")", 1)[0].split()
    assert command[:4] == ["lyncpki", "ca", "serve", "--home"], command
    with (tmp_path / "serve.log").open("wb") as log:
        service = subprocess.Popen(
            [sys.executable, "-m", *command], stdout=log, stderr=subprocess.STDOUT, env=demo_env()
        )
    try:
        port = command[command.index("--port") + 1]
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert service.poll() is None and time.monotonic() < deadline, (
                tmp_path / "serve.log"
            ).read_text()
            time.sleep(0.1)
        again = run_lyncpki("check", "--home", deployed, "--json", env=demo_env())
        assert again.returncode == 0, again.stdout + again.stderr
        notes = json.loads(again.stdout)["notes"]
        assert not [n for n in notes if "lyncpki ca serve" in n], notes
    finally:
        service.terminate()
        service.wait(30)


def test_a_second_run_changes_nothing(deployed: Path) -> None:
    before, issued = tree(deployed), len(issued_by_deploy(deployed))
    process = deploy(deployed)
    assert process.returncode == 0, process.stderr
    assert "nothing to do" in process.stdout
    doc = report(deployed)
    assert doc["actions"] == [] and not doc["changed"] and doc["passed"]
    # the stores' passphrase checks (a scrypt each) have their own bar, after the CA's: the
    # CA's said "done" while they ran (48 s at 400 servers)
    assert list(doc["phases"])[:3] == ["plan", "CA", "stores"]
    assert tree(deployed) == before
    assert len(issued_by_deploy(deployed)) == issued


def test_dry_run_touches_nothing(tmp_path: Path, deployed: Path) -> None:
    home = tmp_path / "untouched"
    process = deploy(home, "--dry-run", "--json")
    assert process.returncode == 0, process.stderr
    result = json.loads(process.stdout)
    assert len(result["needs"]) == PLANNED and {n["action"] for n in result["needs"]} == {"issue"}
    assert not home.exists()
    before = tree(deployed)
    result = json.loads(deploy(deployed, "--dry-run", "--json", "--renew-within", "3000d").stdout)
    assert {n["action"] for n in result["needs"]} == {"renew"}
    assert tree(deployed) == before


@pytest.mark.slow
def test_a_killed_run_is_completed_by_the_next_without_issuing_twice(tmp_path: Path) -> None:
    home = tmp_path / "killed"
    child = start_deploy(home)
    # midway through the requests
    wait_while_running(child, lambda: len(list(home.glob("servers/*/certs/*.crt"))) >= 5)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    finished = len(list(home.glob("servers/*/certs/*.crt")))
    assert finished < PLANNED  # it really was killed midway
    process = deploy(home)
    assert process.returncode == 0, process.stdout + process.stderr
    doc = report(home)
    assert doc["passed"]
    assert len(issued_by_deploy(home)) == PLANNED  # nothing issued twice
    again = deploy(home)
    assert again.returncode == 0 and report(home)["actions"] == []


def _children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_a_run_killed_while_making_keys_leaves_no_worker_holding_its_lock(
    tmp_path: Path,
) -> None:
    """kill -9 of deploy while its key workers ran left them waiting forever, holding the
    deploy's lock (inherited at fork): every later deploy on that home was refused as running."""
    home = tmp_path / "keys-killed"
    child = subprocess.Popen(
        [sys.executable, "-m", "lyncpki", "deploy", str(CONTOSO), "--home", str(home),
         "--no-live", "--jobs", "2"],
        env=demo_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers: list[int] = []

    def making_keys() -> bool:  # the key workers: forked, so with the deploy's command line
        workers[:] = [p for p in _children(child.pid) if b" deploy " in _cmdline(p)]
        return len(workers) >= 2

    wait_while_running(child, making_keys)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{p}").exists() and "Z" not in _state(p) for p in workers):
        assert time.monotonic() < deadline, f"workers {workers} outlived the deploy"
        time.sleep(0.05)
    process = deploy(home, "--no-live")
    assert process.returncode == 0, process.stdout + process.stderr
    assert report(home)["passed"]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
    except OSError:
        return b""


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_renew_within_renews_and_keeps_the_old_as_previous(tmp_path: Path) -> None:
    home = tmp_path / "renew"
    assert deploy(home, "--no-live").returncode == 0
    process = deploy(home, "--no-live", "--renew-within", "1000d")  # 730-day certificates
    assert process.returncode == 0, process.stdout + process.stderr
    assert "deployed, not proved on the wire" in process.stdout  # it said "proved", 0 handshakes
    actions = {a["action"] for a in report(home)["actions"]}
    assert actions == {"renewed", "copied"}
    assert len(issued_by_deploy(home)) == 2 * PLANNED
    rows = json.loads(
        ok(
            run_lyncpki(
                "certs", "--home", home, "--server", "fe01.contoso.net", "--json", env=demo_env()
            )
        ).stdout
    )["certificates"]
    states = sorted(r["state"] for r in rows if r["type"] == "Default")
    assert states == ["assigned", "previous"]


def _held(lock: Path) -> bool:
    """Whether another process holds the flock on `lock` (what deploy holds for a run)."""
    if not lock.exists():
        return False
    with lock.open("rb") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(handle, fcntl.LOCK_UN)
        return False


def test_a_second_deploy_on_the_same_home_is_refused_while_the_first_runs(
    tmp_path: Path,
) -> None:
    """Two first runs on one home each made a CA and a passphrase, and left certificates of one
    CA signed by the other's key: a home that no later run repaired. Now the second is refused
    at once, and the first completes a home that passes."""
    home = tmp_path / "busy"
    first = start_deploy(home)
    wait_while_running(first, lambda: _held(home / ".deploy.lock"))
    second = deploy(home)
    assert second.returncode == 2, second.stdout + second.stderr
    assert "another lyncpki deploy is running" in second.stderr
    assert first.wait(300) == 0
    assert report(home)["passed"]
    assert deploy(home).returncode == 0 and report(home)["actions"] == []


def test_a_home_whose_ca_was_made_again_gets_certificates_of_the_new_one(
    tmp_path: Path,
) -> None:
    """The CA folder removed (the administrator starts the CA over): the next run makes a new
    CA and issues again every certificate of the old one (they were kept, untrusted; and the
    deploy account of the old CA was reused, refused by the new one). openssl verifies what is
    assigned against the new CA."""
    home = tmp_path / "again"
    assert deploy(home).returncode == 0
    shutil.rmtree(home / "ca")
    shutil.rmtree(home / "publish")
    process = deploy(home)
    assert process.returncode == 0, process.stdout + process.stderr
    assert report(home)["passed"]
    root, issuing = home / "ca" / "root.crt", home / "ca" / "issuing.crt"
    assigned = 0
    for store in sorted((home / "servers").glob("*/store.json")):
        for slots in json.loads(store.read_text())["assignments"].values():
            cert = store.parent / "certs" / f"{slots['current']['thumbprint']}.crt"
            result = openssl("verify", "-CAfile", root, "-untrusted", issuing, cert, check=False)
            assert result.strip().endswith(": OK"), result
            assigned += 1
    assert assigned >= PLANNED
    assert deploy(home).returncode == 0 and report(home)["actions"] == []


def test_a_public_ca_certificate_imported_on_the_edge_is_kept_and_copied(tmp_path: Path) -> None:
    """The production flow for the Edge's external certificate: a request for the public CA
    (`request --offline`), its answer from another CA (openssl alone) imported and assigned on
    edge01; the next deploy keeps it (no new certificate from the home's CA) and copies it,
    with its key, to edge02 — one certificate for the pool (R-EDGE-01)."""
    home = tmp_path / "public"
    assert deploy(home).returncode == 0
    usages = ("AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication")
    req = tmp_path / "edge-external.req"
    ok(
        run_lyncpki(
            "request", "--topology", CONTOSO, "--server", "edge01.contoso.net",
            "--type", ",".join(usages), "--offline", "--output", req, "--home", home,
            env=demo_env(),
        )
    )  # fmt: skip
    other = OtherCa(tmp_path / "public-ca", name="Other Public CA")
    leaf = other.sign(req)
    ok(run_lyncpki("import", "--server", "edge01.contoso.net", other.p7b(leaf), "--home", home,
                   env=demo_env()))  # fmt: skip
    thumb = openssl("x509", "-in", leaf, "-noout", "-fingerprint", "-sha1")
    thumb = thumb.strip().split("=", 1)[1].replace(":", "").upper()
    for usage in usages:
        ok(run_lyncpki("assign", "--server", "edge01.contoso.net", "--type", usage,
                       "--thumbprint", thumb, "--topology", CONTOSO, "--home", home,
                       env=demo_env()))  # fmt: skip
    again = deploy(home)
    actions = report(home)["actions"]
    edge = [a for a in actions if a["certificate"] == "edgepool.contoso.net/edge-external"]
    assert [(a["server"], a["action"]) for a in edge] == [("edge02.contoso.net", "copied")], (
        actions,
        again.stdout,
    )
    for server in ("edge01.contoso.net", "edge02.contoso.net"):
        for usage in usages:
            assert _assigned(home, server, usage) == thumb


def _plan_of(certificate: str) -> dict:  # type: ignore[type-arg]
    plan = json.loads(ok(run_lyncpki("plan", CONTOSO, "--json")).stdout)
    return next(c for c in plan["certificates"] if c["id"] == certificate)


def _assigned(home: Path, server: str, usage: str) -> str | None:
    store = json.loads((home / "servers" / server / "store.json").read_text())
    current = store["assignments"].get(usage, {}).get("current")
    return current["thumbprint"] if current else None


EDGE_EXTERNAL = "edgepool.contoso.net/edge-external"
REVERSE_PROXY = "webext.contoso.com/reverse-proxy"
PUBLIC_FILES = {
    EDGE_EXTERNAL: ("edge01.contoso.net", "edge01.contoso.net--edge-external.req"),
    REVERSE_PROXY: ("webext.contoso.com", "webext.contoso.com--reverse-proxy.req"),
}


def test_public_ca_offline_writes_requests_and_takes_the_answers(tmp_path: Path) -> None:
    """`deploy --public-ca offline`: no certificate the plan gives to a public CA comes from the
    home's CA; a request for each waits in <home>/public-requests (openssl verifies its
    signature and reads the planned names in it), unchanged by the next run. The answers of
    another CA (openssl alone) imported on the servers the files are named after are assigned
    by the next run, and the Edge's is copied with its key to edge02 (R-EDGE-01)."""
    home = tmp_path / "offline"
    first = deploy(home, "--public-ca", "offline")
    assert first.returncode == 1, first.stdout + first.stderr  # not done: the public CA's turn
    assert "NOT DONE: waiting for 2 answer(s) of a CA" in first.stdout, first.stdout  # not "errors"
    actions = {(a["certificate"], a["server"]): a["action"] for a in report(home)["actions"]}
    for certificate, (holder, name) in PUBLIC_FILES.items():
        assert actions[certificate, holder] == "requested", actions
        request = home / "public-requests" / name
        text = openssl("req", "-in", request, "-noout", "-verify", "-text")  # exit 0: verified
        planned = _plan_of(certificate)
        assert f"CN = {planned['subject']}" in text, text
        for san in planned["sans"]:
            assert f"DNS:{san}" in text, (san, text)
    subjects = {row["subject"] for row in issued_by_deploy(home)}
    for certificate in PUBLIC_FILES:
        assert not any(_plan_of(certificate)["subject"] in s for s in subjects), subjects
    before = {n: (home / "public-requests" / f).read_bytes() for n, f in PUBLIC_FILES.values()}

    second = deploy(home, "--public-ca", "offline")
    assert second.returncode == 1
    again = {(a["certificate"], a["server"]): a["action"] for a in report(home)["actions"]}
    assert again == {(c, h): "requested" for c, (h, _) in PUBLIC_FILES.items()}, again
    assert before == {
        n: (home / "public-requests" / f).read_bytes() for n, f in PUBLIC_FILES.values()
    }, "a second run made new requests"

    other = OtherCa(tmp_path / "public-ca", name="Other Public CA")
    answers = {}
    for certificate, (holder, name) in PUBLIC_FILES.items():
        leaf = other.sign(home / "public-requests" / name)
        answers[certificate] = thumbprint_of(leaf)
        ok(run_lyncpki("import", "--server", holder, other.p7b(leaf), "--home", home,
                       env=demo_env()))  # fmt: skip
    third = deploy(home, "--public-ca", "offline")
    done = sorted((a["certificate"], a["server"], a["action"]) for a in report(home)["actions"])
    assert done == sorted(
        [
            (EDGE_EXTERNAL, "edge01.contoso.net", "adopted"),
            (EDGE_EXTERNAL, "edge02.contoso.net", "copied"),
            (REVERSE_PROXY, "webext.contoso.com", "adopted"),
        ]
    ), (done, third.stdout)
    for server in ("edge01.contoso.net", "edge02.contoso.net"):
        for usage in ("AccessEdgeExternal", "DataEdgeExternal", "AudioVideoAuthentication"):
            assert _assigned(home, server, usage) == answers[EDGE_EXTERNAL]
    assert _assigned(home, "webext.contoso.com", "ReverseProxy") == answers[REVERSE_PROXY]
    # Everything about them passes the check but the other CA's CRL, which this machine cannot
    # reach (its CDP names pki.other-ca.example): that is the only error left.
    errors = {
        (f["id"], f["server"])
        for f in report(home)["check"]["findings"]
        if f["severity"] == "error"
    }
    assert {rule for rule, _ in errors} == {"cdp.unreachable"}, (errors, third.stdout)
    assert {server for _, server in errors} == {
        "edge01.contoso.net",
        "edge02.contoso.net",
        "webext.contoso.com",
    }
    for holder, _ in PUBLIC_FILES.values():  # the answers completed the requests
        store = json.loads((home / "servers" / holder / "store.json").read_text())
        assert store["pending"] == [], store["pending"]
    # the requests answered leave the folder of what is still to be sent, kept as a record
    for name, file in PUBLIC_FILES.values():
        assert not (home / "public-requests" / file).exists(), file
        assert (home / "public-requests" / "answered" / file).read_bytes() == before[name]
    assert "moved to" in third.stdout and "answered" in third.stdout, third.stdout


def test_public_ca_offline_after_a_lab_keeps_the_lab_certificate_until_the_answer(
    tmp_path: Path,
) -> None:
    """A lab home (public certificates from the home's CA) switched to --public-ca offline:
    requests for the public CA are written, and the lab's certificates stay assigned meanwhile
    (the Edge keeps working while the public CA answers)."""
    home = tmp_path / "lab"
    assert deploy(home).returncode == 0
    lab = _assigned(home, "edge01.contoso.net", "AccessEdgeExternal")
    assert lab is not None
    before = tree(home)
    dry = json.loads(ok(deploy(home, "--public-ca", "offline", "--dry-run", "--json")).stdout)
    assert {(n["certificate"], n["action"]) for n in dry["needs"]} == {
        (c, "renew") for c in PUBLIC_FILES
    }, dry
    assert any("public-requests" in note for note in dry["notes"]), dry["notes"]
    assert tree(home) == before
    switched = deploy(home, "--public-ca", "offline")
    assert switched.returncode == 1
    actions = {(a["certificate"], a["server"]): a["action"] for a in report(home)["actions"]}
    assert actions == {(c, h): "requested" for c, (h, _) in PUBLIC_FILES.items()}, actions
    for _, name in PUBLIC_FILES.values():  # exit 0: the request's signature verifies
        openssl("req", "-in", home / "public-requests" / name, "-noout", "-verify")
    assert _assigned(home, "edge01.contoso.net", "AccessEdgeExternal") == lab
    assert _assigned(home, "edge02.contoso.net", "AccessEdgeExternal") == lab


def test_public_ca_takes_lab_or_offline_only(tmp_path: Path) -> None:
    result = deploy(tmp_path / "home", "--public-ca", "online")
    assert result.returncode == 2
    assert "--public-ca" in result.stderr and "offline" in result.stderr
    assert not (tmp_path / "home").exists()


def test_a_revoked_certificate_is_renewed_by_the_next_run(tmp_path: Path) -> None:
    """A certificate revoked at the CA (a key that left the building) while still assigned: the
    next run said "nothing to do" and reported the revocation as an error; it now renews it, the
    others stay, and openssl finds the new one good and the old one revoked in the CRL."""
    home = tmp_path / "revoked"
    assert deploy(home, "--no-live").returncode == 0
    old = _assigned(home, "fe01.contoso.net", "Default")
    assert old is not None
    old_file = home / "servers" / "fe01.contoso.net" / "certs" / f"{old}.crt"
    serial = openssl("x509", "-in", old_file, "-noout", "-serial").strip().split("=", 1)[1]
    secret = home / "secrets" / "ca-passphrase"
    ok(run_lyncpki("ca", "revoke", serial, "--reason", "keyCompromise", "--home", home,
                   "--passphrase-file", secret, env=demo_env()))  # fmt: skip
    before = tree(home)

    dry = ok(deploy(home, "--dry-run"))
    assert "would renew fe01.contoso.net/default" in dry.stdout, dry.stdout
    assert "keyCompromise" in dry.stdout and "1 to do" in dry.stdout, dry.stdout
    assert tree(home) == before

    process = deploy(home, "--no-live")
    assert process.returncode == 0, process.stdout + process.stderr
    actions = report(home)["actions"]
    assert [(a["certificate"], a["action"]) for a in actions] == [
        ("fe01.contoso.net/default", "renewed")
    ], actions
    new = _assigned(home, "fe01.contoso.net", "Default")
    assert new not in (None, old)
    crl = home / "publish" / "crl" / "lyncpki-issuing-ca.crl.pem"
    root, issuing = home / "ca" / "root.crt", home / "ca" / "issuing.crt"
    chain = ("-CAfile", root, "-untrusted", issuing, "-CRLfile", crl)
    new_file = home / "servers" / "fe01.contoso.net" / "certs" / f"{new}.crt"
    assert openssl("verify", "-crl_check", *chain, new_file).strip().endswith(": OK")
    refused = openssl("verify", "-crl_check", *chain, old_file, check=False)
    assert "certificate revoked" in refused, refused


def test_a_server_taken_out_of_the_topology_is_named(tmp_path: Path) -> None:
    """fe02 replaced by fe03 in the pool: fe02's store kept valid certificates for the pool's
    names and nothing said so; the run now names it and says what to revoke."""
    home = tmp_path / "moved"
    assert deploy(home, "--no-live").returncode == 0
    text = CONTOSO.read_text()
    assert "fe01.contoso.net, fe02.contoso.net" in text
    moved = tmp_path / "moved.yaml"
    moved.write_text(
        text.replace("fe01.contoso.net, fe02.contoso.net", "fe01.contoso.net, fe03.contoso.net")
    )
    process = run_lyncpki("deploy", moved, "--home", home, "--no-live", env=demo_env(), timeout=300)
    assert process.returncode == 0, process.stdout + process.stderr
    assert "fe02.contoso.net: no longer in the topology" in process.stdout
    assert "ca revoke" in process.stdout


def test_a_layout_gone_separate_replaces_the_combined_certificates(tmp_path: Path) -> None:
    """combined -> separate kept the combined certificate on WebServicesExternal ("18 in
    place"), with internal-only names (admin, the server's FQDN, lyncdiscoverinternal) on the
    external web site. Each usage now gets its own, and a second run changes nothing."""
    home = tmp_path / "layout"
    combined = tmp_path / "combined.yaml"
    combined.write_text(CONTOSO.read_text() + "defaults: {layout: combined}\n")
    assert run_lyncpki("deploy", combined, "--home", home, "--no-live", env=demo_env(),
                       timeout=300).returncode == 0  # fmt: skip
    assert deploy(home, "--no-live").returncode == 0
    external = _assigned(home, "fe01.contoso.net", "WebServicesExternal")
    assert external is not None and external != _assigned(home, "fe01.contoso.net", "Default")
    cert = home / "servers" / "fe01.contoso.net" / "certs" / f"{external}.crt"
    names = openssl("x509", "-in", cert, "-noout", "-ext", "subjectAltName")
    assert "admin.contoso.com" not in names and "lyncdiscoverinternal" not in names, names
    assert deploy(home, "--no-live").returncode == 0 and report(home)["actions"] == []


GROWN_EDGE = """\
sip_domains: [tailspin.test]
simple_urls: {meet: meet.tailspin.test}
sites:
  - name: S1
    pools:
      - {role: front_end, fqdn: pool1.corp.tailspin.test, servers: [fe1.corp.tailspin.test]}
      - {role: edge, fqdn: edgepool.corp.tailspin.test, servers: [EDGES],
         external: {access: sip.tailspin.test, webconf: wc.tailspin.test, av: av.tailspin.test}}
"""


def test_an_edge_pool_grown_to_two_servers_gets_exportable_keys(tmp_path: Path) -> None:
    """A one-server Edge pool's Internal certificate has a non-exportable key; grown to two
    servers, deploy copied it as it was (key.not-exportable on both) and every later run said
    "nothing to do" and failed. It is renewed with an exportable key, then copied."""
    home = tmp_path / "grown"
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text(GROWN_EDGE.replace("EDGES", "edge1.corp.tailspin.test"))
    two.write_text(
        GROWN_EDGE.replace("EDGES", "edge1.corp.tailspin.test, edge2.corp.tailspin.test")
    )
    for topology in (one, two):
        process = run_lyncpki("deploy", topology, "--home", home, "--no-live", env=demo_env(),
                              timeout=300)  # fmt: skip
        assert process.returncode == 0, process.stdout + process.stderr
    rows = json.loads(ok(run_lyncpki("certs", "--home", home, "--json", env=demo_env())).stdout)[
        "certificates"
    ]
    internal = [r for r in rows if r["type"] == "Internal" and r["state"] == "assigned"]
    assert {r["server"] for r in internal} == {"edge1.corp.tailspin.test",
                                               "edge2.corp.tailspin.test"}  # fmt: skip
    assert all(r["exportable"] for r in internal), internal
    assert len({r["thumbprint"] for r in internal}) == 1  # one certificate for the pool
    # each row names its serial, as openssl reads it, and as `ca show` takes it
    stored = home / "servers" / "edge1.corp.tailspin.test" / "certs"
    said = openssl("x509", "-in", stored / f"{internal[0]['thumbprint']}.crt", "-noout",
                   "-serial").strip().split("=", 1)[1]  # fmt: skip
    assert internal[0]["serial"].upper() == said.upper()
    ok(run_lyncpki("ca", "show", internal[0]["serial"], "--home", home, env=demo_env()))
    again = run_lyncpki("deploy", two, "--home", home, "--no-live", env=demo_env(), timeout=300)
    assert again.returncode == 0 and "nothing to do" in again.stdout, again.stdout


def test_a_pending_public_request_is_made_again_when_the_plan_grows(tmp_path: Path) -> None:
    """With --public-ca offline, a SIP domain added after the public requests were written:
    the pending request (without the new names) was resumed as it was, and the public CA's
    answer to it was useless. It is made again with the plan's names, the old one moved to
    public-requests/superseded and forgotten with its key."""
    home = tmp_path / "grows"
    first, second = tmp_path / "first.yaml", tmp_path / "second.yaml"
    first.write_text(GROWN_EDGE.replace("EDGES", "edge1.corp.tailspin.test"))
    second.write_text(
        first.read_text().replace("sip_domains: [tailspin.test]",
                                  "sip_domains: [tailspin.test, wingtip.test]")
    )  # fmt: skip
    for topology in (first, second):
        run_lyncpki("deploy", topology, "--home", home, "--no-live", "--public-ca", "offline",
                    env=demo_env(), timeout=300)  # fmt: skip
    outbox = home / "public-requests"
    external = outbox / "edge1.corp.tailspin.test--edge-external.req"
    asked = openssl("req", "-in", external, "-noout", "-text")
    assert "sip.wingtip.test" in asked and "sip.tailspin.test" in asked
    old = outbox / "superseded" / external.name
    assert old.is_file() and "sip.wingtip.test" not in openssl("req", "-in", old, "-noout",
                                                                "-text")  # fmt: skip
    rows = json.loads(ok(run_lyncpki("certs", "--home", home, "--server",
                                     "edge1.corp.tailspin.test", "--json",
                                     env=demo_env())).stdout)["certificates"]  # fmt: skip
    pending = [r for r in rows if r["state"] == "pending request" and
               r["type"].startswith("AccessEdgeExternal")]  # fmt: skip
    assert len(pending) == 1, rows


LAYOUT = """\
sip_domains: [tailspin.test]
simple_urls: {meet: meet.tailspin.test, admin: admin.tailspin.test}
LAYOUT_LINE
sites:
  - name: S1
    pools:
      - {role: front_end, fqdn: pool1.corp.tailspin.test, servers: [fe1.corp.tailspin.test],
         web_services: {external: web.tailspin.test}}
"""


def test_a_combined_certificate_left_after_the_layout_went_separate_is_found(
    tmp_path: Path,
) -> None:
    """Deployed combined, checked against the separate layout: check passed (each usage's SANs
    are there) while WebServicesExternal carried the internal names, admin included; deploy's
    own judgement would renew all three. check says so: layout.combined."""
    home = tmp_path / "layout"
    combined, separate = tmp_path / "combined.yaml", tmp_path / "separate.yaml"
    combined.write_text(LAYOUT.replace("LAYOUT_LINE", "defaults: {layout: combined}"))
    separate.write_text(LAYOUT.replace("LAYOUT_LINE\n", ""))
    ok(run_lyncpki("deploy", combined, "--home", home, "--no-live", env=demo_env(), timeout=300))
    process = run_lyncpki("check", "--home", home, "-t", separate, "--offline", "--json",
                          env=demo_env())  # fmt: skip
    assert process.returncode == 1, process.stdout + process.stderr
    found = [f for f in json.loads(process.stdout)["findings"] if f["id"] == "layout.combined"]
    assert {f["usage"] for f in found} == {"Default", "WebServicesInternal", "WebServicesExternal"}
    # and against the layout it was deployed with, nothing
    ok(run_lyncpki("check", "--home", home, "-t", combined, "--offline", env=demo_env()))


def test_a_removed_servers_store_is_noted_by_check_and_the_dry_run(tmp_path: Path) -> None:
    """A server taken out of the topology keeps valid certificates for the pool's names: the
    real deploy said so, its dry run and `check` did not."""
    home = tmp_path / "removed"
    two, one = tmp_path / "two.yaml", tmp_path / "one.yaml"
    two.write_text(
        LAYOUT.replace("LAYOUT_LINE\n", "").replace(
            "servers: [fe1.corp.tailspin.test]",
            "servers: [fe1.corp.tailspin.test, fe2.corp.tailspin.test]",
        )
    )
    one.write_text(LAYOUT.replace("LAYOUT_LINE\n", ""))
    ok(run_lyncpki("deploy", two, "--home", home, "--no-live", env=demo_env(), timeout=300))
    dry = json.loads(ok(run_lyncpki("deploy", one, "--home", home, "--no-live", "--dry-run",
                                    "--json", env=demo_env())).stdout)  # fmt: skip
    assert any("fe2.corp.tailspin.test" in n for n in dry["notes"]), dry["notes"]
    checked = run_lyncpki("check", "--home", home, "-t", one, "--offline", "--json",
                          env=demo_env())  # fmt: skip
    notes = json.loads(checked.stdout)["notes"]
    assert any("fe2.corp.tailspin.test" in n and "ca revoke" in n for n in notes), notes


CHANGED_PLAN = """\
sip_domains: [tailspin.test, DROPPED]
simple_urls: {meet: meet.tailspin.test}
federation: {enabled: true, public_im: PUBLIC_IM}
defaults: {key: KEY}
sites:
  - name: S1
    pools:
      - {role: front_end, fqdn: pool1.corp.tailspin.test, servers: [fe1.corp.tailspin.test]}
      - {role: edge, fqdn: edgepool.corp.tailspin.test, servers: [edge1.corp.tailspin.test],
         external: {access: sip.tailspin.test, webconf: wc.tailspin.test, av: av.tailspin.test}}
"""


def test_certificates_the_plan_changed_are_renewed(tmp_path: Path) -> None:
    """Public IM turned on (the Edge needs Client Authentication), another key for every
    certificate, a SIP domain dropped: deploy said "nothing to do: every planned certificate
    was in place", then failed its own check on every run (eku.client-auth), kept RSA 2048
    and the names of a domain no longer the organization's."""
    home = tmp_path / "changed"
    before, after = tmp_path / "before.yaml", tmp_path / "after.yaml"
    before.write_text(
        CHANGED_PLAN.replace("DROPPED", "fabrikam.test")
        .replace("PUBLIC_IM", "false")
        .replace("KEY", "rsa2048")
    )
    after.write_text(
        CHANGED_PLAN.replace(", DROPPED", "")
        .replace("PUBLIC_IM", "true")
        .replace("key: KEY", "key: ec-p256, validity_days: 90")
    )
    runs = []
    for topology in (before, after, after):
        process = run_lyncpki("deploy", topology, "--home", home, "--no-live", env=demo_env(),
                              timeout=300)  # fmt: skip
        assert process.returncode == 0, process.stdout + process.stderr
        runs.append(report(home)["actions"])
    assert runs[0] and not runs[2]  # the third run: nothing left to change
    reasons = " ".join(str(action) for action in runs[1])
    assert "Client Authentication" in reasons and "fabrikam.test" in reasons, reasons
    assert "valid for 730 days, the plan's 90" in reasons, reasons
    access = _assigned(home, "edge1.corp.tailspin.test", "AccessEdgeExternal")
    assert access is not None
    cert = home / "servers" / "edge1.corp.tailspin.test" / "certs" / f"{access}.crt"
    text = openssl("x509", "-in", cert, "-noout", "-text")
    assert "TLS Web Client Authentication" in text and "id-ecPublicKey" in text, text
    assert "fabrikam" not in text
    dates = openssl("x509", "-in", cert, "-noout", "-startdate", "-enddate")
    start, end = (line.split("=", 1)[1] for line in dates.strip().splitlines())
    days = (_when(end) - _when(start)).days
    assert days == 90, dates  # the plan's validity, as openssl reads it


def _when(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%b %d %H:%M:%S %Y %Z")


def test_a_key_file_replaced_by_another_key_is_renewed(tmp_path: Path) -> None:
    """fe1's Default key file overwritten with another certificate's key: the dry run said
    "in place", the run stopped in the proof with exit 2 (KEY_VALUES_MISMATCH, no server
    named), and the last run's report, "passed", stayed."""
    home, topology = tmp_path / "home", tmp_path / "t.yaml"
    topology.write_text(
        CHANGED_PLAN.replace("DROPPED", "fabrikam.test")
        .replace("PUBLIC_IM", "false")
        .replace("KEY", "rsa2048")
    )

    def run() -> subprocess.CompletedProcess[str]:
        return run_lyncpki("deploy", topology, "--home", home, env=demo_env(), timeout=300)

    assert run().returncode == 0
    store = home / "servers" / "fe1.corp.tailspin.test"
    index = json.loads((store / "store.json").read_text())
    current = {u: a["current"]["thumbprint"] for u, a in index["assignments"].items()}
    keys = {p["thumbprint"]: p["key_id"] for p in index["personal"]}
    shutil.copy(store / "keys" / f"{keys[current['WebServicesInternal']]}.key",
                store / "keys" / f"{keys[current['Default']]}.key")  # fmt: skip
    fixed = run()
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
    renewed = [a for a in report(home)["actions"] if a["certificate"].endswith("/default")]
    assert renewed and "not the certificate's" in renewed[0]["detail"], renewed
    assert report(home)["passed"]
    assert run().returncode == 0 and report(home)["actions"] == []
    # a damaged key file (cut short) is renewed the same way; it stopped the whole run
    index = json.loads((store / "store.json").read_text())
    default = index["assignments"]["Default"]["current"]["thumbprint"]
    key_ids = {p["thumbprint"]: p["key_id"] for p in index["personal"]}
    key_file = store / "keys" / f"{key_ids[default]}.key"
    key_file.write_bytes(key_file.read_bytes()[:100])
    damaged = run()
    assert damaged.returncode == 0, damaged.stdout + damaged.stderr
    again = [a for a in report(home)["actions"] if a["certificate"].endswith("/default")]
    assert again and "replaced or damaged" in again[0]["detail"], again


def test_a_default_certificate_without_client_authentication_is_renewed_for_the_proof(
    tmp_path: Path,
) -> None:
    """The Certificate Wizard's default template (WebServer) gives fe01's Default certificate
    Server Authentication only, as Lync's does; the next deploy said "nothing to do", then its
    live proof failed fe01 as a client ("unsuitable certificate purpose") with no fix. Deploy
    renews such a certificate with its own template when it proves; --no-live keeps it."""
    home = tmp_path / "home"
    server = "fe01.contoso.net"
    assert deploy(home, "--no-live").returncode == 0

    def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return ok(run_lyncpki(*args, "--home", home, env=demo_env()))

    cli("request", "--topology", CONTOSO, "--server", server, "--type", "Default",
        "--offline", "--output", tmp_path / "fe01.req")  # fmt: skip
    cli("ca", "issue", tmp_path / "fe01.req", "--template", "WebServer", "--out",
        tmp_path / "fe01.cer")  # fmt: skip
    said = openssl("x509", "-in", tmp_path / "fe01.cer", "-noout", "-ext", "extendedKeyUsage")
    assert "Server Authentication" in said and "Client Authentication" not in said, said
    cli("import", tmp_path / "fe01.cer", "--server", server)
    cli("assign", "--server", server, "--type", "Default",
        "--thumbprint", thumbprint_of(tmp_path / "fe01.cer"))  # fmt: skip

    def needs(*more: str) -> dict[str, dict]:  # type: ignore[type-arg]
        dry = deploy(home, "--dry-run", "--json", *more)
        assert dry.returncode == 0, dry.stderr
        return {n["certificate"]: n for n in json.loads(dry.stdout)["needs"]}

    assert f"{server}/default" not in needs("--no-live")
    # the Default certificate deploy had issued is still installed: assigned again
    replaced = needs()[f"{server}/default"]
    assert replaced["action"] == "adopt", replaced
    run = deploy(home)
    assert run.returncode == 0, run.stdout + run.stderr
    assert report(home)["passed"]
    index = json.loads((home / "servers" / server / "store.json").read_text())
    current = index["assignments"]["Default"]["current"]["thumbprint"]
    cert = home / "servers" / server / "certs" / f"{current}.crt"
    assert "Client Authentication" in openssl("x509", "-in", cert, "-noout", "-ext",
                                              "extendedKeyUsage")  # fmt: skip
    # with no such certificate left to take (its key damaged), it is renewed, and says why
    cli("assign", "--server", server, "--type", "Default",
        "--thumbprint", thumbprint_of(tmp_path / "fe01.cer"))  # fmt: skip
    keys = {p["thumbprint"]: p["key_id"] for p in index["personal"]}
    key_file = home / "servers" / server / "keys" / f"{keys[current]}.key"
    key_file.write_bytes(key_file.read_bytes()[:100])
    again = deploy(home)
    assert again.returncode == 0, again.stdout + again.stderr
    (renewed,) = [a for a in report(home)["actions"] if a["certificate"] == f"{server}/default"]
    assert "Client Authentication" in renewed["detail"], renewed
