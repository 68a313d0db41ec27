"""The CA service deploy starts for its home (ServiceProcess): polled until it answers /health
with one HTTP client. A new client for each poll loaded the CA bundle each time (160 ms a poll,
3.7 s of a 4.2 s start)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from lab import CONTOSO, PASSPHRASE, free_port, ok, run_lyncpki
from lyncpki.deployment.ca_setup import ServiceProcess


def test_the_service_is_polled_with_one_client(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    home = tmp_path / "home"
    ok(run_lyncpki("ca", "init", "--home", home, "--base-url", url, "--topology", CONTOSO,
                   "--root-key", "rsa2048"))  # fmt: skip
    made: list[httpx.Client] = []
    client_init = httpx.Client.__init__

    def counted(self: httpx.Client, *args: Any, **kwargs: Any) -> None:
        made.append(self)
        client_init(self, *args, **kwargs)

    monkeypatch.setattr(httpx.Client, "__init__", counted)
    service = ServiceProcess(home, url, PASSPHRASE.encode(), tmp_path / "serve.log")
    try:
        service.start()  # the service cannot answer the first poll: it has not even imported
        answer = httpx.get(f"{url}/health")  # a client of the test's own
        assert answer.status_code == 200
    finally:
        service.stop()
    assert len(made) == 2, f"{len(made) - 1} clients polled the service"
