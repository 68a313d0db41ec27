"""A CA home's templates.yaml is policy an administrator edits by hand: every field is read as
the type it must have, and a mistake is refused with the file, the template and the field named
(never read as something else: a quoted "no" is not true, a string is not a list of EKUs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lyncpki.ca.authority import load_templates
from lyncpki.ca.home import CaHome
from lyncpki.ca.templates import BUILTIN
from lyncpki.errors import LyncPkiError


def _home_with(tmp_path: Path, templates: Any) -> CaHome:
    home = CaHome(tmp_path)
    home.ca_dir.mkdir(parents=True)
    home.templates_file.write_text(yaml.safe_dump({"templates": templates}), "utf-8")
    return home


def _web_server(**changes: Any) -> dict[str, Any]:
    fields = {**BUILTIN[0].as_dict(), **changes}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in fields.items()}


def test_the_built_in_templates_written_out_read_back_the_same(tmp_path: Path) -> None:
    home = _home_with(tmp_path, [_web_server()])
    assert list(load_templates(home)) == [BUILTIN[0]]


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"approval": "no"}, "approval is a string 'no', not true or false"),
        ({"eku": "serverAuth"}, "eku is a string 'serverAuth', not a list of strings"),
        ({"key_types": ["ec-p256", 256]}, "key_types is a list"),
        ({"validity_days": "30"}, "validity_days is a string '30', not a whole number"),
        ({"validity_days": True}, "validity_days is a boolean"),
        ({"max_sans": -1}, "max_sans -1 out of range"),
        ({"path_length": 2}, "path_length 2 on a template that is not is_ca"),
        ({"name": ""}, "an empty name"),
        ({"namespaces": {"contoso.com": 1}}, "namespaces is a mapping"),
        ({"max_sans": 0}, "max_sans 0 on a template that is not is_ca"),  # could issue nothing
    ],
)
def test_a_field_of_the_wrong_type_or_range_is_refused_by_name(
    tmp_path: Path, changes: dict[str, Any], said: str
) -> None:
    home = _home_with(tmp_path, [_web_server(**changes)])
    with pytest.raises(LyncPkiError) as refused:
        load_templates(home)
    assert str(home.templates_file) in refused.value.message
    assert said in refused.value.message
    assert refused.value.fix


@pytest.mark.parametrize(
    ("templates", "said", "fix"),
    [
        ([], "lists no templates", "list at least one template, or delete the file"),
        ([5], "a template is a number '5', not a mapping", "write each template as fields"),
        ([_web_server(), _web_server(name="webserver")], "more than once", "one entry per"),
        ("WebServer", "has no 'templates' list", "write one ('templates:'"),
        ([{"name": "X"}], "lacks display_name, description", "a name, a display_name and"),
    ],
)
def test_a_file_that_offers_no_usable_set_is_refused(
    tmp_path: Path, templates: Any, said: str, fix: str
) -> None:
    home = _home_with(tmp_path, templates)
    with pytest.raises(LyncPkiError) as refused:
        load_templates(home)
    assert said in refused.value.message
    assert fix in (refused.value.fix or "")


def test_a_file_that_is_not_utf8_is_refused(tmp_path: Path) -> None:
    home = _home_with(tmp_path, [])
    home.templates_file.write_bytes(b"templates:\n- name: W\xe9b\n")
    with pytest.raises(LyncPkiError, match="not UTF-8"):
        load_templates(home)


@pytest.mark.parametrize(
    ("changes", "fix"),
    [
        ({"validity_days": 0}, "set validity_days to a whole number from 1 to 36500"),
        ({"max_sans": -1}, "set max_sans to a whole number from 0 to"),
        ({"path_length": 2}, "remove path_length"),
        ({"eku": ["serverAuth", "bogus"]}, "EKUs: "),
    ],
)
def test_a_refused_template_gets_the_fix_of_its_own_problem(
    tmp_path: Path, changes: dict[str, Any], fix: str
) -> None:
    """validity_days 0 was answered with the lists of EKUs, key types and hashes."""
    home = _home_with(tmp_path, [_web_server(**changes)])
    with pytest.raises(LyncPkiError) as refused:
        load_templates(home)
    assert (refused.value.fix or "").startswith(fix), refused.value.fix


def test_a_ca_template_may_name_no_san(tmp_path: Path) -> None:
    """A subordinate CA is named for itself: max_sans 0 stays allowed where is_ca."""
    sub = next(t for t in BUILTIN if t.is_ca).as_dict() | {"max_sans": 0}
    fields = {k: list(v) if isinstance(v, tuple) else v for k, v in sub.items()}
    home = _home_with(tmp_path, [_web_server(), fields])
    assert [t.max_sans for t in load_templates(home) if t.is_ca] == [0]
