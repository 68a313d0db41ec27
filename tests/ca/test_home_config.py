"""A CA's config.json, edited by hand or damaged, is refused with the field named and the type it
must have, never iterated as something else ("namespaces": "contoso.com" became eleven
one-letter namespaces) nor turned into an internal error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from lyncpki.ca.home import CaHome
from lyncpki.errors import LyncPkiError

GOOD = {
    "name": "Contoso Issuing CA",
    "root_name": "Contoso Root CA",
    "base_url": "http://127.0.0.1:8080",
    "db_url": "postgresql+psycopg://127.0.0.1/test",
    "namespaces": ["contoso.com"],
    "created": "2026-12-03T04:29:05+00:00",
    "crl_days": 7,
    "delta_crl_hours": 24,
    "root_crl_days": 180,
    "hashes": ["sha256"],
}


def _home(tmp_path: Path, data: Any) -> CaHome:
    home = CaHome(tmp_path)
    home.ca_dir.mkdir()
    home.config_file.write_text(json.dumps(data), "utf-8")
    return home


def test_a_config_as_ca_init_writes_it_is_read(tmp_path: Path) -> None:
    config = _home(tmp_path, GOOD).read_config()
    assert config.namespaces == ("contoso.com",)
    assert config.crl_days == 7


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"namespaces": "contoso.com"}, "namespaces is a string 'contoso.com', not a list"),
        ({"crl_days": "7"}, "crl_days is a string '7', not a whole number"),
        ({"crl_days": 0}, "crl_days is 0, below 1"),
        ({"hashes": None}, "hashes is empty"),
        ({"name": 5}, "name is a number"),
        ({"surprise": 1}, "unknown field surprise"),
    ],
)
def test_a_field_of_the_wrong_type_is_named(
    tmp_path: Path, change: dict[str, Any], said: str
) -> None:
    home = _home(tmp_path, {**GOOD, **change})
    with pytest.raises(LyncPkiError) as refused:
        home.read_config()
    assert refused.value.message.startswith(f"{home.config_file} is damaged: {said}")
    assert "correct what is named" in (refused.value.fix or "")


@pytest.mark.parametrize("data", [[1, 2], "text", None])
def test_a_config_that_is_no_object_is_damaged(tmp_path: Path, data: Any) -> None:
    with pytest.raises(LyncPkiError, match=r"it holds .*, not an object"):
        _home(tmp_path, data).read_config()


def test_a_missing_field_is_named(tmp_path: Path) -> None:
    with pytest.raises(LyncPkiError, match="no db_url"):
        _home(tmp_path, {k: v for k, v in GOOD.items() if k != "db_url"}).read_config()
