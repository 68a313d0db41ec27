"""Hostile input never crashes lyncpki: topology files, certificate requests (loaded and
submitted to a CA), certificate files of every form, and certificates given to `check` — each
either works or is refused with a domain error (a message and a fix), never another
exception, and `check` turns whatever it is given into findings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from fuzz_inputs import EXAMPLES, PFX_PASSWORD, hostile, seeds
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scoreboard import Scoreboard

from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.home import CaHome
from lyncpki.checks.files import check_file
from lyncpki.errors import LyncPkiError
from lyncpki.keyspec import KeySpec
from lyncpki.topology import load_topology_text
from lyncpki.x509.bundles import load_bundle
from lyncpki.x509.requests import read_request

pytestmark = pytest.mark.reliability
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
    database=None,
)


def refused_cleanly(error: LyncPkiError) -> None:
    assert error.message.strip(), "a refusal without a message"
    assert "Traceback" not in error.message


# ---------------------------------------------------------------------------- topology
YAML_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=12), inner, max_size=5)
    ),
    max_leaves=30,
)


@FUZZ
@given(st.one_of(hostile("topology"), YAML_VALUES.map(lambda v: yaml.safe_dump(v).encode())))
def test_topology_files(scoreboard: Scoreboard, data: bytes) -> None:
    scoreboard.count("fuzz: topology files (YAML, JSON)", "inputs")
    text = data.decode("utf-8", "replace")
    for name in ("fuzz.yaml", "fuzz.json"):
        try:
            load_topology_text(text, name)
        except LyncPkiError as error:
            refused_cleanly(error)


@FUZZ
@given(
    st.dictionaries(
        st.sampled_from(
            [
                "sip_domains",
                "simple_urls",
                "sites",
                "federation",
                "defaults",
                "organization",
                "oauth",
                "wildcards",
                "mobility",
            ]
        ),
        YAML_VALUES,
        max_size=6,
    )
)
def test_topology_documents_of_any_shape(
    scoreboard: Scoreboard, document: dict[str, object]
) -> None:
    scoreboard.count("fuzz: topology documents of any shape", "inputs")
    base = yaml.safe_load(seeds()["topology"])
    base.update(document)
    try:
        load_topology_text(yaml.safe_dump(base), "shape.yaml")
    except LyncPkiError as error:
        refused_cleanly(error)


# ---------------------------------------------------------------------------- requests
@pytest.fixture(scope="module")
def fuzz_ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    return CertificateAuthority.create(
        CaHome(tmp_path_factory.mktemp("fuzz-ca") / "home"),
        passphrase=b"fuzz-passphrase",
        namespaces=("contoso.net", "contoso.com"),
        root_key=KeySpec("ec", 256),
        key=KeySpec("ec", 256),
    )


@FUZZ
@given(st.one_of(hostile("csr_der"), hostile("csr_pem")))
def test_requests_loaded_and_submitted(
    scoreboard: Scoreboard, fuzz_ca: CertificateAuthority, data: bytes
) -> None:
    scoreboard.count("fuzz: requests (.req, PEM, DER) loaded, submitted", "inputs")
    try:
        read_request(data, "fuzzed.req")
    except LyncPkiError as error:
        refused_cleanly(error)
    try:
        fuzz_ca.submit(data, requester="fuzz", source="fuzzed.req")
    except LyncPkiError as error:
        refused_cleanly(error)


@FUZZ
@given(
    st.sampled_from(
        [
            "WebServer",
            "webserver ",
            "../../etc",
            "Web\x00Server",
            "A" * 5000,
            "SubCA",
            "OCSPResponseSigning",
            "'; DROP TABLE certificates; --",
            "WebServer\r\nX-Injected: 1",
            "\u202eWebServer",
        ]
    )
)
def test_template_names(scoreboard: Scoreboard, fuzz_ca: CertificateAuthority, name: str) -> None:
    scoreboard.count("fuzz: template names (injection)", "inputs")
    try:
        fuzz_ca.submit(seeds()["csr_pem"], requester="fuzz", template=name)
    except LyncPkiError as error:
        refused_cleanly(error)
    assert len(fuzz_ca.certificates()) >= 0  # the database still answers


# ---------------------------------------------------------------------------- files
@FUZZ
@given(
    st.one_of(
        hostile("cert_der"), hostile("cert_pem"), hostile("p7b"), hostile("p7b_pem"), hostile("pfx")
    ),
    st.sampled_from([None, PFX_PASSWORD, "wrong"]),
    st.booleans(),
)
def test_certificate_files(
    scoreboard: Scoreboard, data: bytes, password: str | None, pkcs12_hint: bool
) -> None:
    scoreboard.count("fuzz: certificate files (PEM, DER, P7B, PFX)", "inputs")
    try:
        load_bundle(data, "fuzzed.p7b", password=password, pkcs12_hint=pkcs12_hint)
    except LyncPkiError as error:
        refused_cleanly(error)


@FUZZ
@given(st.one_of(hostile("cert_der"), hostile("cert_pem"), hostile("p7b")))
def test_check_turns_anything_into_findings(
    scoreboard: Scoreboard, tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    scoreboard.count("fuzz: certificates given to check", "inputs")
    path = _folder(tmp_path_factory) / "given.cer"  # one file, rewritten for every input
    path.write_bytes(data)
    findings = check_file(path, now=dt.datetime.now(dt.UTC))
    assert all(f.message and f.fix for f in findings)
    assert all(f.id != "check.crashed" for f in findings), [f.message for f in findings]


_FOLDERS: dict[str, Path] = {}


def _folder(factory: pytest.TempPathFactory) -> Path:
    if "check" not in _FOLDERS:
        _FOLDERS["check"] = factory.mktemp("check-fuzz")
    return _FOLDERS["check"]
