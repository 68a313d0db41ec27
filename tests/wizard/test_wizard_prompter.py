"""The terminal prompter's lists, answered through prompt_toolkit's own pipe input: a list
longer than questionary's 36 shortcut keys (the servers of a 100-server topology) is chosen
with the arrows or by typing part of a name or of its site; `lyncpki wizard` without
--server crashed on one (exit 70: "A list with shortcuts supports a maximum of 36
choices")."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from prompt_toolkit.application import create_app_session
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.input.base import PipeInput
from prompt_toolkit.output import DummyOutput
from rich.console import Console

from lyncpki.checks.deployment import store_sites, stores
from lyncpki.planning import plan
from lyncpki.topology.model import Topology
from lyncpki.wizard.prompter import TerminalPrompter

DOWN, ENTER = "\x1b[B", "\r"


def _topology(sites: int) -> Topology:
    """Sites of 20 servers (a Front End pool of 12, two of each other role), as the scale
    sweep's generator makes them."""
    domain = "corp-scale.org"
    return Topology.model_validate(
        {
            "organization": {"name": "Scale Ltd", "city": "Redmond", "state": "WA",
                             "country": "US"},
            "sip_domains": [domain],
            "simple_urls": {"meet": [f"meet.{domain}"], "dialin": f"dialin.{domain}",
                            "admin": f"admin.{domain}"},
            "sites": [
                {
                    "name": f"Site{s}",
                    "pools": [
                        {"role": "front_end", "fqdn": f"pool.s{s}.{domain}",
                         "servers": [f"fe{n}.s{s}.{domain}" for n in range(12)],
                         "web_services": {"external": f"web{s}.{domain}"}},
                        {"role": "director", "fqdn": f"dir.s{s}.{domain}",
                         "servers": [f"dir{n}.s{s}.{domain}" for n in range(2)]},
                        {"role": "mediation", "fqdn": f"med.s{s}.{domain}",
                         "servers": [f"med{n}.s{s}.{domain}" for n in range(2)]},
                        {"role": "edge", "fqdn": f"edge.s{s}.{domain}",
                         "servers": [f"edge{n}.s{s}.{domain}" for n in range(2)],
                         "external": {"access": f"sip{s}.{domain}",
                                      "webconf": f"webconf{s}.{domain}", "av": f"av{s}.{domain}"}},
                        {"role": "persistent_chat", "fqdn": f"chat.s{s}.{domain}",
                         "servers": [f"chat{n}.s{s}.{domain}" for n in range(2)]},
                    ],
                }
                for s in range(sites)
            ],
        }
    )  # fmt: skip


@contextmanager
def terminal() -> Iterator[tuple[TerminalPrompter, PipeInput]]:
    """A TerminalPrompter whose questions read what the test types."""
    with create_pipe_input() as typed, create_app_session(input=typed, output=DummyOutput()):
        yield TerminalPrompter(Console(file=io.StringIO())), typed


@pytest.fixture(scope="module")
def servers() -> tuple[list[str], dict[str, str]]:
    result = plan(_topology(5))
    return stores(result), store_sites(result)


def test_more_servers_than_shortcut_keys_are_chosen_with_the_arrows(
    servers: tuple[list[str], dict[str, str]],
) -> None:
    names, _ = servers
    assert len(names) > 36
    with terminal() as (ui, typed):
        typed.send_text(DOWN + DOWN + ENTER)
        assert ui.choose("Server", names, names[0]) == names[2]


def test_more_servers_than_shortcut_keys_are_found_by_typing_part_of_a_name(
    servers: tuple[list[str], dict[str, str]],
) -> None:
    names, sites = servers
    with terminal() as (ui, typed):
        typed.send_text("edge1.s3" + ENTER)
        assert ui.choose("Server", names, names[0], groups=sites) == "edge1.s3.corp-scale.org"


def test_typing_a_sites_name_keeps_its_servers(
    servers: tuple[list[str], dict[str, str]],
) -> None:
    names, sites = servers
    assert sites["dir1.s4.corp-scale.org"] == "Site4"
    with terminal() as (ui, typed):
        typed.send_text("site4" + DOWN * 13 + ENTER)  # its Front Ends, then its Directors
        assert ui.choose("Server", names, names[0], groups=sites) == "dir1.s4.corp-scale.org"


def test_a_short_list_keeps_its_shortcut_keys() -> None:
    with terminal() as (ui, typed):
        typed.send_text("3" + ENTER)
        assert ui.choose("Task", ["Request", "Assign", "Import", "Export"], "Request") == "Import"
