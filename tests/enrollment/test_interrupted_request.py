"""An online request interrupted (Ctrl-C) while the CA has not answered leaves nothing behind:
it has no CA request id to be retrieved by, so its pending entry and its key are dropped (they
stayed, listed as a pending request at a CA that never saw it)."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from lab import CONTOSO, lab_env, run_lyncpki

MED = "med01.contoso.net"


def _env() -> dict[str, str]:
    return lab_env(LYNCPKI_STORE_PASSPHRASE="store-pass-phrase-42", LYNCPKI_CA_PASSWORD="x" * 16)


def _request_to(port: int, home: Path, env: dict[str, str]) -> subprocess.Popen[str]:
    """`lyncpki request` of med01's Default certificate, sent to a CA at `port`."""
    return subprocess.Popen(
        [sys.executable, "-m", "lyncpki", "request", "--topology", str(CONTOSO),
         "--server", MED, "--type", "Default", "--home", str(home),
         "--ca", f"http://127.0.0.1:{port}", "--ca-account", "fe-requester"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def test_ctrl_c_while_the_ca_does_not_answer_leaves_no_pending_request(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = _env()
    with socket.socket() as silent:  # accepts the connection, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        request = _request_to(port, home, env)
        silent.settimeout(60)
        accepted, _ = silent.accept()  # the request is on its way: the CA "thinks"
        time.sleep(0.5)
        request.send_signal(signal.SIGINT)
        _, err = request.communicate(timeout=60)
        accepted.close()
    assert request.returncode != 0, err
    assert "Traceback" not in err
    listed = run_lyncpki("certs", "--home", home, "--server", MED, "--json", env=env)
    document = json.loads(listed.stdout)
    assert [r for r in document["certificates"] if r["state"] == "pending request"] == []
    keys = list((home / "servers" / MED / "keys").glob("*.key"))
    assert keys == [], keys  # the key of a request nobody will answer is not kept


def test_a_request_the_ca_took_without_answering_is_kept_with_its_key(tmp_path: Path) -> None:
    """The connection dropped after the request was sent: the CA may have issued it, yet the
    key was deleted (the certificate orphaned) and the error said the CA could not be
    reached. The request and its key are kept, and the error says how to go on."""
    home = tmp_path / "home"
    env = _env()
    with socket.socket() as dropping:  # reads the request, then closes without a word
        dropping.bind(("127.0.0.1", 0))
        dropping.listen()
        port = dropping.getsockname()[1]
        request = _request_to(port, home, env)
        dropping.settimeout(60)
        accepted, _ = dropping.accept()
        accepted.settimeout(60)
        received = b""
        while b"END NEW CERTIFICATE REQUEST" not in received:
            chunk = accepted.recv(65536)
            assert chunk, received
            received += chunk
        accepted.close()
        _, err = request.communicate(timeout=60)
    assert request.returncode == 2, err
    assert "gave no answer" in err and "kept as pending request 1" in err, err
    assert "--clear 1" in err and "cannot reach" not in err, err
    listed = run_lyncpki("certs", "--home", home, "--server", MED, "--json", env=env)
    pending = [r for r in json.loads(listed.stdout)["certificates"]
               if r["state"] == "pending request"]  # fmt: skip
    assert len(pending) == 1, pending
    assert len(list((home / "servers" / MED / "keys").glob("*.key"))) == 1
