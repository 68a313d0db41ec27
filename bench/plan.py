"""Benchmark: plan and render a generated topology of 10,000 servers in 500 pools.

Targets (issue "Topology model, certificate planner and the Certificates Report"): planning
under 1 s, every report format under 5 s. Each figure is printed with a ratio against a
baseline measured in the same run on the same data, so the numbers travel between machines:

- loading:  PyYAML's own C-less safe_load of the same text (the parser floor we build on);
- planning: copying every SAN list of the plan into fresh dicts (a floor for any planner that
            materialises the same rows);
- csv/json: the standard library writing the same cells / the same document;
- xlsx:     openpyxl write-only writing the same cells as plain strings (no styles, no filter);
- html/table: no library floor; shown against the CSV renderer.

Run: .venv/bin/python bench/plan.py [--sites 50]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from typing import Any

import yaml
from openpyxl import Workbook
from rich.console import Console

from lyncpki.planning import plan
from lyncpki.reports import render_plan
from lyncpki.reports.columns import CERTIFICATE_COLUMNS, row_texts
from lyncpki.reports.plan_table import print_plan
from lyncpki.topology import load_topology_text
from timing import timed


def generate(sites: int) -> dict[str, Any]:
    """50 sites x 10 pools (4 Front End x 45, 2 Director x 4, 2 Mediation x 4, Edge x 2, Chat x 2)
    = 500 pools and 10,000 servers with names under bench domains."""
    domains = ["corp-bench.org", "partner-bench.org"]
    topo: dict[str, Any] = {
        "sip_domains": domains,
        "simple_urls": {
            "meet": [f"meet.{d}" for d in domains],
            "dialin": "dialin.corp-bench.org",
            "admin": "admin.corp-bench.org",
        },
        "mobility": True,
        "federation": {"enabled": True, "xmpp": True},
        "sites": [],
    }
    for s in range(sites):
        net = f"s{s}.ad.corp-bench.org"
        pools: list[dict[str, Any]] = []
        published = []
        for p in range(4):
            external = f"web{s}-{p}.corp-bench.org"
            published.append(external)
            pools.append({
                "role": "front_end",
                "fqdn": f"pool{p}.{net}",
                "servers": [f"fe{p}-{n}.{net}" for n in range(45)],
                "web_services": {"external": external},
            })  # fmt: skip
        for p in range(2):
            external = f"dir{s}-{p}.corp-bench.org"
            published.append(external)
            pools.append({
                "role": "director",
                "fqdn": f"dir{p}.{net}",
                "servers": [f"dir{p}-{n}.{net}" for n in range(4)],
                "web_services": {"external": external},
            })  # fmt: skip
        for p in range(2):
            pools.append({
                "role": "mediation",
                "fqdn": f"med{p}.{net}",
                "servers": [f"med{p}-{n}.{net}" for n in range(4)],
            })  # fmt: skip
        pools.append({
            "role": "edge",
            "fqdn": f"edge.{net}",
            "servers": [f"edge-{n}.{net}" for n in range(2)],
            "external": {
                "access": f"sip{s}.corp-bench.org",
                "webconf": f"webconf{s}.corp-bench.org",
                "av": f"av{s}.corp-bench.org",
            },
        })  # fmt: skip
        pools.append({
            "role": "persistent_chat",
            "fqdn": f"chat.{net}",
            "servers": [f"chat-{n}.{net}" for n in range(2)],
        })  # fmt: skip
        topo["sites"].append(
            {"name": f"Site{s}", "pools": pools, "reverse_proxy": {"publishes": published}}
        )
    return topo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=50, help="sites of 200 servers (default 50)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    data = generate(args.sites)
    text = yaml.safe_dump(data, sort_keys=False)
    servers = sum(len(p["servers"]) for s in data["sites"] for p in s["pools"])
    pools = sum(len(s["pools"]) for s in data["sites"])
    print(f"topology: {len(data['sites'])} sites, {pools} pools, {servers} servers, "
          f"{len(text) / 1e6:.1f} MB of YAML")  # fmt: skip

    t_yaml, _ = timed(lambda: yaml.safe_load(text), args.repeat)
    t_load, topology = timed(lambda: load_topology_text(text, "bench.yaml"), args.repeat)
    t_plan, result = timed(lambda: plan(topology), args.repeat)
    count = len(result.certificates)

    def floor_plan() -> list[dict[str, Any]]:
        return [{"id": c.id, "sans": list(c.sans), "usages": list(c.usages)}
                for c in result.certificates]  # fmt: skip

    t_floor, _ = timed(floor_plan, args.repeat)
    # The same cells our reports write, computed once, for the library floors.
    rows = [row_texts(CERTIFICATE_COLUMNS, c) for c in result.certificates]

    def floor_csv() -> str:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
        return buffer.getvalue()

    def floor_xlsx() -> bytes:
        book = Workbook(write_only=True)
        sheet = book.create_sheet("Certificates")
        for row in rows:
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()

    document = result.as_dict()
    t_csv_floor, _ = timed(floor_csv, 1)
    t_json_floor, _ = timed(lambda: json.dumps(document, indent=2), 1)
    t_xlsx_floor, _ = timed(floor_xlsx, 1)

    print(f"\n{count} certificates, {len(result.warnings)} warnings\n")
    print(f"{'step':<10} {'seconds':>8} {'certs/s':>10} {'target':>8}  baseline (same run)")
    print(f"{'load':<10} {t_load:8.3f} {'':>10} {'':>8}  {t_load / t_yaml:5.2f}x PyYAML safe_load")
    print(f"{'plan':<10} {t_plan:8.3f} {count / t_plan:10.0f} {'< 1 s':>8}  "
          f"{t_plan / t_floor:5.2f}x copying the plan's SAN lists")  # fmt: skip
    floors = {"csv": t_csv_floor, "json": t_json_floor, "xlsx": t_xlsx_floor}
    t_csv = 0.0
    for fmt in ("csv", "json", "html", "xlsx"):
        seconds, _ = timed(lambda fmt=fmt: render_plan(result, fmt), 1)  # type: ignore[misc]
        if fmt == "csv":
            t_csv = seconds
        floor = floors.get(fmt)
        ratio = (f"{seconds / floor:5.2f}x stdlib/openpyxl floor" if floor
                 else f"{seconds / t_csv:5.2f}x our CSV")  # fmt: skip
        print(f"{fmt:<10} {seconds:8.3f} {count / seconds:10.0f} {'< 5 s':>8}  {ratio}")

    def table() -> None:
        print_plan(result, Console(file=io.StringIO(), width=200, no_color=True))

    seconds, _ = timed(table, 1)
    print(f"{'table':<10} {seconds:8.3f} {count / seconds:10.0f} {'< 5 s':>8}  "
          f"{seconds / t_csv:5.2f}x our CSV")  # fmt: skip


if __name__ == "__main__":
    main()
