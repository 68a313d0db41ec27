"""The command line, driven as a user would: exit codes, files written, messages, no traceback."""

from __future__ import annotations

import codecs
import csv
import itertools
import json
import os
import re
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

from lyncpki.cli.lazy_group import subcommands
from lyncpki.cli.main import app

runner = CliRunner()


def invoke(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_plan_json_is_the_versioned_document(contoso_yaml: Path) -> None:
    code, out, _ = invoke("plan", str(contoso_yaml), "--json")
    assert code == 0
    document = json.loads(out)
    assert document["schema"] == "lyncpki.plan/1"
    ids = {c["id"] for c in document["certificates"]}
    assert {"fe01.contoso.net/default", "edgepool.contoso.net/edge-external", "global/oauth"} <= ids


def test_plan_output_suffix_picks_the_format(contoso_yaml: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    code, out, _ = invoke("plan", str(contoso_yaml), "-o", str(target))
    assert code == 0 and "wrote" in out
    # with the byte-order mark Excel needs to read UTF-8 (else "no — not needed" is "â€”")
    assert target.read_bytes().startswith(codecs.BOM_UTF8)
    with target.open(encoding="utf-8-sig", newline="") as file:
        rows = list(csv.DictReader(file))
    assert rows and list(rows[0])[:2] == ["Friendly name", "Subject name"]
    assert any(row["Exportable"].startswith("no — ") for row in rows)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp file left


def test_plan_table_to_file(contoso_yaml: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.txt"
    code, _, _ = invoke("plan", str(contoso_yaml), "--format", "table", "-o", str(target))
    assert code == 0
    assert "webconf.contoso.com" in target.read_text("utf-8")


def test_the_report_never_replaces_the_topology(
    contoso_yaml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`plan t.yaml -o t.yaml` wrote the report over the topology, exit 0."""
    topology = tmp_path / "t.yaml"
    shutil.copy(contoso_yaml, topology)
    before = topology.read_bytes()
    for extra in ((), ("--format", "json")):
        code, _, err = invoke("plan", str(topology), "-o", str(topology), *extra)
        assert code == 2 and "is the topology file" in err
        assert topology.read_bytes() == before
    monkeypatch.chdir(tmp_path)  # the same file by another spelling
    code, _, err = invoke("plan", str(topology), "-o", "./t.yaml")
    assert code == 2 and topology.read_bytes() == before


def test_a_suffix_that_names_no_format_is_refused(contoso_yaml: Path, tmp_path: Path) -> None:
    """`-o report.pdf` wrote a text table into report.pdf and said nothing."""
    code, _, err = invoke("plan", str(contoso_yaml), "-o", str(tmp_path / "report.pdf"))
    assert code == 2 and "report.pdf" in err and "--format" in err
    assert not (tmp_path / "report.pdf").exists()
    code, out, _ = invoke("plan", str(contoso_yaml), "-o", str(tmp_path / "report.txt"))
    assert code == 0 and "wrote" in out and "(table," in out
    assert "webconf.contoso.com" in (tmp_path / "report.txt").read_text("utf-8")
    code, _, _ = invoke("plan", str(contoso_yaml), "-o", str(tmp_path / "r.pdf"), "-f", "html")
    assert code == 0 and (tmp_path / "r.pdf").read_text("utf-8").lstrip().startswith("<!")


def test_json_keeps_stdout_json_and_conflicting_formats_are_refused(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    target = tmp_path / "plan.json"
    code, out, _ = invoke("plan", str(contoso_yaml), "--json", "-o", str(target))
    assert code == 0
    said = json.loads(out)
    assert said["written"] == str(target) and said["format"] == "json"
    assert said["certificates"] == len(json.loads(target.read_text())["certificates"])
    code, out, _ = invoke("plan", str(contoso_yaml), "--json", "--format", "csv")
    assert code == 2 and "two formats" in json.loads(out)["message"]


LONG_DOMAIN = "a" * 62 + ".example.org"  # 74 characters: the OAuth certificate's CN cannot be


def test_a_report_written_says_its_errors_apart_from_its_warnings(tmp_path: Path) -> None:
    """`plan -o` exits 1 on an error of the plan; its line and its JSON counted that error
    as one more warning, so a script could not tell it from --strict or see what failed."""
    topology = tmp_path / "long.yaml"
    topology.write_text(
        f"sip_domains: [{LONG_DOMAIN}]\n"
        f"simple_urls: {{meet: meet.{LONG_DOMAIN}}}\n"
        "sites:\n  - name: Oslo\n    pools:\n"
        "      - {role: front_end, fqdn: pool.example.org, servers: [fe1.example.org], "
        "web_services: {external: web.example.org}}\n"
    )
    table_code, table, _ = invoke("plan", str(topology))
    counted = re.search(r"(\d+) errors?, (\d+) warnings?", table)
    assert table_code == 1 and counted, table[-400:]
    errors, warnings = int(counted[1]), int(counted[2])
    assert errors >= 1
    code, out, _ = invoke("plan", str(topology), "-o", str(tmp_path / "r.csv"))
    assert code == 1 and f"{errors} error{'s' if errors > 1 else ''}, {warnings} warning" in out
    code, out, _ = invoke("plan", str(topology), "-o", str(tmp_path / "r.html"), "--json")
    said = json.loads(out)
    assert code == 1 and (said["errors"], said["warnings"]) == (errors, warnings)
    assert "plan.subject-too-long" in {f["id"] for f in said["error_findings"]}
    assert all(f["message"] and f["fix"] for f in said["error_findings"])


def test_a_csv_on_stdout_keeps_the_warnings_of_no_one_certificate_on_stderr(
    contoso_yaml: Path,
) -> None:
    """Written to a file, the CSV's deployment-wide warnings went to stderr; printed, they
    were lost. The CSV itself is read by Python's csv module."""
    import csv
    import io

    code, out, err = invoke("plan", str(contoso_yaml), "--format", "csv")
    assert code == 0
    rows = list(csv.reader(io.StringIO(out)))
    assert len(rows) > 10
    assert "[not in the CSV: a warning of no one certificate]" in err


def test_xlsx_needs_an_output_file(contoso_yaml: Path) -> None:
    code, _, err = invoke("plan", str(contoso_yaml), "--format", "xlsx")
    assert code == 2
    assert "--output" in err


def test_output_into_missing_folder_is_refused(contoso_yaml: Path, tmp_path: Path) -> None:
    code, _, err = invoke("plan", str(contoso_yaml), "-o", str(tmp_path / "nope" / "r.json"))
    assert code == 2
    assert "does not exist" in err and "Traceback" not in err


def test_layout_combined_merges_front_end_certificates(contoso_yaml: Path) -> None:
    _, separate, _ = invoke("plan", str(contoso_yaml), "--json")
    _, combined, _ = invoke("plan", str(contoso_yaml), "--json", "--layout", "combined")
    by_id = {c["id"]: c for c in json.loads(combined)["certificates"]}
    assert len(by_id) < len(json.loads(separate)["certificates"])
    assert by_id["fe01.contoso.net/default"]["usages"] == [
        "Default",
        "WebServicesInternal",
        "WebServicesExternal",
    ]


def test_strict_exits_1_on_warnings(contoso_yaml: Path) -> None:
    code, _, _ = invoke("plan", str(contoso_yaml), "--json", "--strict")
    assert code == 1


def test_a_plan_with_errors_exits_1_without_strict(tmp_path: Path) -> None:
    """An error-severity finding (no request can be made for a certificate) exited 0 unless
    --strict: a script took an unusable plan for a good one. The report is still written."""
    long_domain = "s" * 55 + ".corpmail.se"
    topology = tmp_path / "t.yaml"
    topology.write_text(
        "sip_domains: [corpmail.se]\n"
        "simple_urls: {meet: meet.corpmail.se}\n"
        f"oauth: {{subject: {long_domain}}}\n"
        "sites:\n"
        "  - name: Stockholm\n"
        "    pools:\n"
        "      - {role: standard_edition, fqdn: se1.corpmail.se,"
        " web_services: {external: web.corpmail.se}}\n"
    )
    target = tmp_path / "plan.json"
    code, _, err = invoke("plan", str(topology), "-o", str(target))
    assert code == 1, err
    assert "plan.subject-too-long" in err
    assert json.loads(target.read_text())["certificates"]
    code, out, _ = invoke("plan", str(topology), "--json")
    assert code == 1 and json.loads(out)["warnings"][0]["severity"] == "error"


def test_missing_topology_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    code, _, err = invoke("plan", str(tmp_path / "absent.yaml"))
    assert code == 2
    assert "file not found" in err and "Traceback" not in err


def test_invalid_topology_names_file_line_and_fix(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "sip_domains: [corp.example-lab.se]\n"
        "simple_urls: {meet: meet.corp.example-lab.se}\n"
        "sites:\n"
        "  - name: A\n"
        "    pools:\n"
        "      - {role: frontend, fqdn: pool.corp.example-lab.se,\n"
        "         servers: [fe1.corp.example-lab.se]}\n",
        "utf-8",
    )
    code, _, err = invoke("topology", "validate", str(bad))
    assert code == 2
    assert f"{bad}:6:" in err
    assert "did you mean 'front_end'" in err and "fix:" in err
    code, out, _ = invoke("topology", "validate", str(bad), "--json")
    assert code == 2
    issue = json.loads(out)["issues"][0]
    assert issue["line"] == 6 and issue["field"] == "sites[0].pools[0].role"


def test_validate_accepts_the_example(contoso_yaml: Path) -> None:
    code, out, _ = invoke("topology", "validate", str(contoso_yaml), "--json")
    assert code == 0
    summary = json.loads(out)
    assert summary["valid"] is True and summary["pools"] == 7
    assert (
        summary["servers"] == 9
    )  # fe01, fe02, se01, dir01, med01, pchat01, edge01, edge02, owas01


def test_init_writes_an_example_that_plans_with_default_name_warnings(tmp_path: Path) -> None:
    target = tmp_path / "topology.yaml"
    code, _, _ = invoke("topology", "init", str(target))
    assert code == 0 and target.exists()
    code, _, err = invoke("topology", "init", str(target))
    assert code == 2 and "already exists" in err
    code, out, _ = invoke("plan", str(target), "--json")
    warnings = json.loads(out)["warnings"]
    fields = {w["subject"] for w in warnings if w["id"] == "plan.default-name"}
    assert {"sip_domains[0]", "sip_domains[1]", "organization.name"} <= fields


def test_init_dash_prints_the_example() -> None:
    code, out, _ = invoke("topology", "init", "-")
    assert code == 0 and "sip_domains:" in out


def test_help_explains_the_report() -> None:
    code, out, _ = invoke("plan", "--help")
    assert code == 0
    assert "Certificates Report" in out and "--layout" in out


@pytest.mark.slow
def test_installed_entry_point_runs_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"sip_domains": ["a.se"],, }', "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "lyncpki", "plan", str(broken)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "not valid JSON" in done.stderr and f"{broken}:1:" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["certs", "--no-such-option", "--json"], "No such option: --no-such-option"),
        (["check", "--days", "soon", "--json"], "'--days'"),
        (["ca", "revoke", "--json"], "Missing argument 'SERIAL'"),
    ],
)
def test_a_usage_error_of_a_json_command_is_json(args: list[str], said: str) -> None:
    """A script that asked for --json reads every error as JSON on stdout, usage errors too
    (the installed entry point: typer's own runner would show its box)."""
    done = subprocess.run(
        [sys.executable, "-m", "lyncpki", *args], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2, done.stdout + done.stderr
    document = json.loads(done.stdout)
    assert document["error"] == "UsageError"
    assert said in document["message"]
    assert document["fix"].endswith("--help")
    assert "Traceback" not in done.stderr
    plain = subprocess.run(  # without --json: typer's message on stderr, nothing on stdout
        [sys.executable, "-m", "lyncpki", *(a for a in args if a != "--json")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert plain.returncode == 2 and not plain.stdout and said in plain.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--endpoint", "127.0.0.1:9", "--offline", "--client-pfx"],
        ["check", "--endpoint", "127.0.0.1:9", "--offline", "--trust"],
        ["ca", "issue"],
        ["import", "--server", "fe01.contoso.net"],
    ],
    ids=["client-pfx", "trust", "ca-issue", "import"],
)
def test_a_file_that_is_not_there_is_named_not_a_crash(args: list[str], tmp_path: Path) -> None:
    missing = tmp_path / "not-there.cer"
    code, _, err = invoke(*args, str(missing), "--home", str(tmp_path / "home"))
    assert code == 2, err
    assert f"cannot read {missing}: No such file or directory" in err
    assert "fix:" in err and "Traceback" not in err


def _command_paths() -> list[tuple[str, ...]]:
    """Every command and sub-command of the CLI, as the words that name it."""
    import typer.main

    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:  # typer's click, vendored or not
        paths.append(path)
        for name, sub in subcommands(command).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return paths


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "lyncpki")
def test_every_help_page_renders(path: tuple[str, ...]) -> None:
    """`--help` is how an administrator learns a command: each page renders, whole (help
    texts hold brackets such as HOST:PORT[=SERVER[/USAGE]] that rich must not read as markup)."""
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, (result.output, result.exception)
    assert "Usage:" in result.output and "--help" in result.output
    assert result.exception is None
    _assert_values_named(result.output)


# Python's names for an option's value, which typer prints when nothing else is said: "--server
# <list[str]>", "--json <bool>" (a flag, which takes no value), "--home <path>".
PYTHON_TYPE_NAMES = re.compile(r"<(bool|str|int|float|path|Path|list\[[^>]*\])[ >]")


def _assert_values_named(help_page: str) -> None:
    """Every option's value named for the administrator (FQDN, FILE, HOST:PORT, SECONDS; a
    choice's values), no flag shown as taking one; arguments keep typer's type column only
    beside their name (SERIAL)."""
    options = [line for line in help_page.splitlines() if re.search(r"(^|[│ ])--?[a-z]", line)]
    named_by_python = [line.strip("│ ") for line in options if PYTHON_TYPE_NAMES.search(line)]
    assert not named_by_python, named_by_python


@pytest.mark.parametrize("path", _command_paths(), ids=lambda p: " ".join(p) or "lyncpki")
def test_a_help_page_breaks_lines_only_where_the_terminal_ends(path: tuple[str, ...]) -> None:
    """The description under "Usage:" is paragraphs that rich wraps to the terminal: on a very
    wide one each paragraph is one line. The texts are wrapped in the source, and typer kept
    those breaks, so an 80-column terminal broke every other line short."""
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "3000"})
    assert result.exit_code == 0, result.output
    description = result.output.split("Usage:")[1].split("╭")[0].splitlines()[1:]
    text = [line.strip() for line in description]
    broken = [a for a, b in itertools.pairwise(text) if a and b]
    assert not broken, f"{' '.join(path)}: a paragraph broken after: {broken}"


def _long_option_commands() -> list[tuple[tuple[str, ...], list[str]]]:
    """Commands (not groups) with an option name long enough for rich's panel to cut at 80
    columns, and those names."""
    import typer.main

    found: list[tuple[tuple[str, ...], list[str]]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subs = subcommands(command)
        if not subs:
            names = [o for p in command.params for o in p.opts if len(o) >= 14]
            if names:
                found.append((path, names))
            return
        for name, sub in subs.items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


@pytest.mark.parametrize(
    ("path", "names"), _long_option_commands(), ids=lambda v: " ".join(v) if v else ""
)
def test_on_an_80_column_terminal_no_option_name_is_cut(
    path: tuple[str, ...], names: list[str]
) -> None:
    """`lyncpki ... --help` as typed in an 80-column terminal: click's plain layout, every option
    named whole (typer's rich panel printed "--ca-password-fi…")."""
    process = subprocess.run(
        [sys.executable, "-m", "lyncpki", *path, "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "80"},
        check=False,
    )
    assert process.returncode == 0, process.stderr
    assert "…" not in process.stdout
    for name in names:
        assert name in process.stdout, name
    assert all(len(line) <= 80 for line in process.stdout.splitlines())
    _assert_values_named(process.stdout)


def _groups() -> list[tuple[str, ...]]:
    import typer.main

    groups: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        subs = subcommands(command)
        if subs:
            groups.append(path)
        for name, sub in subs.items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return groups


@pytest.mark.parametrize("path", _groups(), ids=lambda p: " ".join(p) or "lyncpki")
def test_a_command_list_gives_each_command_one_line(path: tuple[str, ...]) -> None:
    """In a group's list of commands each summary is one line on a wide terminal: typer keeps
    the line breaks of a docstring's first paragraph there (`ca revoke` read "publish one with
    `lyncpki ca crl`" and "(or `ca crl --delta`)." on two rows)."""
    result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "400"})
    assert result.exit_code == 0, result.output
    panel = result.output.split("Commands")[1].split("╰")[0]
    rows = [line for line in panel.splitlines()[1:] if line.startswith("│")]
    assert rows
    continued = [row.strip("│ ") for row in rows if row.startswith("│  ")]
    assert not continued, f"summaries broken over rows: {continued}"


@pytest.mark.parametrize(
    "args",
    [
        ("ca", "init", "--home", "/proc/lyncpki-home", "--domain", "contoso.net"),
        ("plan", "examples/contoso.yaml", "--output", "/proc/lyncpki-plan.csv"),
    ],
    ids=["home", "output"],
)
def test_a_folder_the_filesystem_refuses_is_named_not_a_bug(args: tuple[str, ...]) -> None:
    """A home or an output where no file can be made (read-only, another user's, /proc): exit 2
    with the path and what to check; it was 'internal error: this is a bug' (exit 70)."""
    process = subprocess.run(
        [sys.executable, "-m", "lyncpki", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "LYNCPKI_CA_PASSPHRASE": "passphrase-for-a-test", "COLUMNS": "200"},
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert process.returncode == 2, process.stderr
    assert "internal error" not in process.stderr and "/proc/lyncpki-" in process.stderr
    assert "fix:" in process.stderr


def test_the_service_refuses_a_tls_pair_it_could_not_use(tmp_path: Path) -> None:
    """`ca serve --tls-cert/--tls-key` checks its pair before listening (keys made by openssl):
    a key that is not the certificate's, an encrypted key, a key given as the certificate
    (they were 'cannot use: [SSL: ...]' with a fix about paths, or uvicorn's own trace)."""
    openssl = shutil.which("openssl")
    assert openssl, "openssl is needed"

    def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([openssl, *map(str, args)], capture_output=True, check=True)

    cert, key, other = tmp_path / "c.pem", tmp_path / "k.pem", tmp_path / "other.pem"
    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
        "-subj", "/CN=ca.contoso.net", "-days", "2")  # fmt: skip
    run("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", other)
    locked = tmp_path / "locked.pem"
    run("pkey", "-in", key, "-out", locked, "-aes256", "-passout", "pass:secret-pass")
    cases = {
        (cert, other): "is not the key of --tls-cert",
        (cert, locked): "is encrypted",
        (key, key): "holds no PEM certificate",
        (cert, cert): "holds no PEM private key",
    }
    for (given_cert, given_key), words in cases.items():
        process = subprocess.run(
            [sys.executable, "-m", "lyncpki", "ca", "serve", "--home", str(tmp_path / "h"),
             "--port", "1", "--tls-cert", str(given_cert), "--tls-key", str(given_key)],
            capture_output=True, text=True, timeout=60, check=False,
            env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        assert process.returncode == 2, process.stderr
        assert words in process.stderr and "Traceback" not in process.stderr


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("deploy", "examples/contoso.yaml", "--dry-run", "--renew-within", "soon"), "30d or 12h"),
        (("deploy", "examples/contoso.yaml", "--dry-run", "--renew-within", "99999999d"), "3650d"),
        (("check", "--cert", "README.md", "--days", "999999999"), "--days"),
        (("deploy", "examples/contoso.yaml", "--dry-run", "--jobs", "100000"), "--jobs"),
        (("ca", "audit", "--limit", "99999999999999999999"), "--limit"),
        (("request", "--topology", "examples/contoso.yaml", "--server", "fe01.contoso.net",
          "--offline", "--key", "rsa123"), "--key"),
    ],
    ids=["renew-within-word", "renew-within-huge", "days-huge", "jobs-huge", "audit-limit-huge",
         "key-unknown"],
)  # fmt: skip
def test_a_bad_parameter_is_a_usage_error(
    tmp_path: Path, args: tuple[str, ...], words: str
) -> None:
    """Values a command judges itself (a duration, a key kind) were 'internal error' (exit 70),
    a huge --renew-within or --days overflowed the date, and --jobs 100000 started a hundred
    thousand processes; now usage errors (exit 2)."""
    process = subprocess.run(
        [sys.executable, "-m", "lyncpki", *args, "--home", str(tmp_path / "h")],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", "LYNCPKI_STORE_PASSPHRASE": "store-pass-phrase"},
        cwd=Path(__file__).resolve().parents[2],
        check=False,
    )
    assert process.returncode == 2, process.stdout + process.stderr
    assert "internal error" not in process.stderr and words in process.stderr


@pytest.mark.parametrize(
    ("server", "said"),
    [
        ("pool01.contoso.net", "pool01.contoso.net is a pool's name; its servers are fe01"),
        ("fe09.contoso.net", "has no server fe09.contoso.net (did you mean fe0"),
        ("nothing.example.org", "the topology has no server nothing.example.org"),
        (  # in the topology, without a certificate: not "the topology has no server"
            "owas01.contoso.net",
            "owas01.contoso.net is in the topology (role office_web_apps), and the plan gives "
            "it no certificate (set plan_certificate: true",
        ),
    ],
)
def test_check_of_a_server_the_topology_lacks_is_bad_usage(
    contoso_yaml: Path, tmp_path: Path, server: str, said: str
) -> None:
    """`check --server` with a pool's name or a typo checked nothing and passed (exit 0): a
    monitoring script saw green for a server it never looked at. It is now exit 2, naming the
    pool's servers or the likely name."""
    code, out, err = invoke(
        "check", "-t", str(contoso_yaml), "--home", str(tmp_path), "--server", server,
        "--offline",
    )  # fmt: skip
    assert code == 2, (out, err)
    assert said in err and "fix:" in err, err
    code, _, err = invoke(
        "check", "-t", str(contoso_yaml), "--home", str(tmp_path), "--server",
        "FE01.contoso.net", "--offline",
    )  # fmt: skip
    assert code != 2, err  # a planned server, in any case, is checked (its store is empty: 1)


def test_certs_of_a_home_that_is_not_there_is_bad_usage(tmp_path: Path) -> None:
    """A mistyped --home listed nothing with exit 0 (a script saw an empty inventory); a file
    given as the home the same. Both are exit 2 now; an existing empty home lists nothing."""
    for home, said in (
        (tmp_path / "hh", "there is no lyncpki home at"),
        (Path("examples/contoso.yaml"), "is a file, not a folder"),
    ):
        code, out, err = invoke("certs", "--home", str(home), "--json")
        assert code == 2, (out, err)
        assert said in json.loads(out)["message"] and str(home) in out
    (tmp_path / "empty").mkdir()
    code, out, _ = invoke("certs", "--home", str(tmp_path / "empty"), "--json")
    assert code == 0 and json.loads(out)["certificates"] == []


def test_a_folder_given_as_a_file_is_named(tmp_path: Path) -> None:
    """`topology init DIR` said "add --force", which then failed; `plan -o DIR` said "check the
    folder's permissions and space"."""
    code, _, err = invoke("topology", "init", str(tmp_path))
    assert code == 2 and "is a folder" in err and str(tmp_path / "topology.yaml") in err, err
    code, _, err = invoke("plan", "examples/contoso.yaml", "-o", str(tmp_path))
    assert code == 2 and "is a folder" in err and str(tmp_path / "report.html") in err, err
    assert list(tmp_path.iterdir()) == []


def test_a_csv_report_leaves_no_warning_unsaid(contoso_yaml: Path, tmp_path: Path) -> None:
    """The CSV holds one row per certificate: the warnings of no one certificate (example names,
    a SIP domain without its meet URL) were in the JSON, HTML and XLSX but lost in the CSV."""
    out = tmp_path / "plan.csv"
    code, _, err = invoke("plan", str(contoso_yaml), "-o", str(out))
    assert code == 0
    document = json.loads(invoke("plan", str(contoso_yaml), "--json")[1])
    general = [w for w in document["warnings"] if not w.get("certificate")]
    assert general
    for warning in general:
        assert f"{warning['id']} ({warning['rule']}) {warning['subject']}" in err, warning


def test_check_output_takes_its_format_from_the_suffix(contoso_yaml: Path, tmp_path: Path) -> None:
    """`check -o report.html` wrote the terminal table into the .html file."""
    for name, starts in (("c.html", "<!doctype html"), ("c.json", "{")):
        out = tmp_path / name
        code, _, err = invoke("check", "-t", str(contoso_yaml), "--home", str(tmp_path),
                              "--offline", "-o", str(out))  # fmt: skip
        assert code in (0, 1), err
        assert out.read_text().lower().startswith(starts), out.read_text()[:80]


def test_check_of_an_endpoint_naming_no_planned_server_is_bad_usage(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """`--endpoint HOST:PORT=nothere` or `=fe01/Bogus` handshook with no planned name to check
    and passed; both are exit 2 before any connection."""
    for given, said in (
        ("127.0.0.1:9=nothere.contoso.net", "has no server nothere.contoso.net"),
        ("127.0.0.1:9=fe01.contoso.net/Bogus", "has no Bogus certificate"),
    ):
        code, _, err = invoke("check", "-t", str(contoso_yaml), "--home", str(tmp_path),
                              "--endpoint", given)  # fmt: skip
        assert code == 2 and said in err, (given, err)


def test_check_gives_its_verdict_where_it_cannot_keep_it(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """A home check could not write last-check.json (a read-only home, an auditor's account)
    and ended in exit 2 with no verdict; the verdict comes, with a note."""
    (tmp_path / "last-check.json").mkdir()  # where the file would go, something it cannot replace
    shutil.copyfile(contoso_yaml, tmp_path / "topology.yaml")  # the home's own topology
    code, out, err = invoke("check", "--home", str(tmp_path), "--offline", "--json")
    assert code == 1, err  # an empty home: every planned certificate missing
    document = json.loads(out)
    assert document["findings"] and any(
        "not kept as the last check" in n for n in document["notes"]
    )


def test_only_a_whole_check_of_the_homes_topology_is_kept_as_the_last_check(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """A check of one server, of files, or of another topology replaced the dashboard's last
    check of the whole deployment (a deployment with errors showed as passed)."""
    shutil.copyfile(contoso_yaml, tmp_path / "topology.yaml")
    last = tmp_path / "last-check.json"
    code, _, err = invoke("check", "--home", str(tmp_path), "--offline", "--json")
    assert code == 1, err
    whole = last.read_bytes()
    other = tmp_path / "other.yaml"
    shutil.copyfile(contoso_yaml, other)
    for more in (["--server", "fe01.contoso.net"], ["-t", str(other)]):
        invoke("check", "--home", str(tmp_path), "--offline", "--json", *more)
        assert last.read_bytes() == whole, more


def test_deploy_refused_for_want_of_credentials_leaves_nothing(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """`deploy --ca URL` without an account, or without a store passphrase, left a home with
    its topology behind, and the fix offered --passphrase-file, which deploy does not take."""
    home = tmp_path / "never"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    asked = [sys.executable, "-m", "lyncpki", "deploy", str(contoso_yaml), "--home", str(home),
             "--ca", "http://127.0.0.1:9"]  # fmt: skip
    for more, extra, said in (
        ([], {}, "--ca needs a CA account"),
        (["--ca-account", "deployer"], {"LYNCPKI_CA_PASSWORD": "x" * 12}, "no passphrase"),
    ):
        run = subprocess.run([*asked, *more], capture_output=True, text=True,
                             env={**env, **extra}, check=False)  # fmt: skip
        assert run.returncode == 2 and said in run.stderr, run.stderr
        assert "--passphrase-file" not in run.stderr
        assert not home.exists()


def test_deploy_ca_account_without_ca_is_refused(contoso_yaml: Path, tmp_path: Path) -> None:
    """--ca-account without --ca was ignored: the run used the home's own CA."""
    home = tmp_path / "never"
    code, _, err = invoke("deploy", str(contoso_yaml), "--home", str(home), "--ca-account", "x")
    assert code == 2 and "--ca-account goes with --ca" in err, err
    assert not home.exists()


def test_deploy_of_a_topology_with_a_mistake_leaves_no_home(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """The topology is read before the home is made: a refused one left a home holding only
    its deploy lock, which the next run (with the mistake corrected) found in its way."""
    broken = tmp_path / "broken.yaml"
    broken.write_text(contoso_yaml.read_text("utf-8").replace("role: mediation", "role: medi"))
    home = tmp_path / "never"
    code, _, err = invoke("deploy", str(broken), "--home", str(home))
    assert code == 2 and f"{broken}:" in err and "mediation" in err, err
    assert not home.exists()


def test_deploy_with_a_weak_ca_passphrase_leaves_no_home_and_a_fix_it_takes(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """The fix offered --generate-passphrase, an option of ca init that deploy does not take,
    and the refused run left a home with its lock and topology."""
    home = tmp_path / "never"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")}
    run = subprocess.run(
        [sys.executable, "-m", "lyncpki", "deploy", str(contoso_yaml), "--home", str(home)],
        capture_output=True, text=True, env={**env, "LYNCPKI_CA_PASSPHRASE": "short"},
        check=False,
    )  # fmt: skip
    assert run.returncode == 2, run.stderr
    assert "shorter than 12 characters" in run.stderr
    assert "--generate-passphrase" not in run.stderr and "unset LYNCPKI_CA_PASSPHRASE" in run.stderr
    assert not home.exists()


@pytest.mark.parametrize(
    ("args", "meant"), [(["plna"], "plan"), (["ca", "aproove"], "approve"), (["cert"], "certs")]
)
def test_a_mistyped_command_is_named_with_the_one_meant(args: list[str], meant: str) -> None:
    """Commands are built when run: the suggestion draws on every command all the same."""
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert f"Did you mean '{meant}'" in result.output


def test_an_unknown_log_level_is_a_usage_error(tmp_path: Path) -> None:
    """`ca serve --log-level bogus` announced the service, then failed with 'internal error:
    KeyError' (exit 70) inside uvicorn."""
    code, out, err = invoke("ca", "serve", "--home", str(tmp_path), "--log-level", "bogus")
    assert code == 2 and "bogus" in err and "debug" in err
    assert "CA service on" not in out


@pytest.mark.parametrize(
    "command",
    [
        ["certs"],
        ["ca", "list"],
        ["ca", "init", "--generate-passphrase"],
        ["check"],
        ["import", "x.cer", "--server", "fe01.contoso.net"],
    ],
)
def test_a_home_that_is_a_file_is_named(tmp_path: Path, command: list[str]) -> None:
    """--home naming a file: `check` reported every server's store as damaged ("restore
    store.json from a backup"), `ca list` said to create a CA there, `import` named a folder
    below the file."""
    home = tmp_path / "home"
    home.write_text("not a folder")
    code, out, err = invoke(*command, "--home", str(home))
    assert code == 2, (out, err)
    assert f"the home {home} is a file, not a folder" in err
    assert home.read_text() == "not a folder"


@pytest.mark.parametrize(
    "command",
    [["certs"], ["ca", "list"], ["ca", "init", "--generate-passphrase"], ["check"]],
)
def test_an_empty_home_is_refused_not_taken_for_this_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    """`--home ""` (a script's unset variable) or an empty $LYNCPKI_HOME was the current
    folder: `ca init` put a CA's keys and secrets wherever the shell stood."""
    monkeypatch.chdir(tmp_path)
    for given in (["--home", ""], ["--home=  "]):
        code, out, err = invoke(*command, *given)
        assert code == 2 and "--home" in err and "empty" in err, (given, out, err)
    result = runner.invoke(app, command, env={"COLUMNS": "200", "LYNCPKI_HOME": ""})
    assert result.exit_code == 2 and "$LYNCPKI_HOME is empty" in result.stderr, result.stderr
    assert list(tmp_path.iterdir()) == []


def test_live_endpoints_of_a_server_named_in_capitals(contoso_yaml: Path) -> None:
    """`check --live -s FE01.contoso.net` chose no endpoint at all (and passed): the names
    were compared as typed, while the store check takes them in any case."""
    from lyncpki.cli.check_command import _default_endpoints
    from lyncpki.planning import plan_file

    plan = plan_file(contoso_yaml)
    lower = _default_endpoints(plan, ["fe01.contoso.net"], 1)
    upper = _default_endpoints(plan, ["FE01.Contoso.NET"], 1)
    assert upper == lower
    assert [e.server for e in lower[0]] + [f.server for f in lower[1]] == ["fe01.contoso.net"]


def test_json_with_an_output_file_keeps_the_files_format(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """`plan -o plan.xlsx --json` wrote JSON into the .xlsx, and `check --format html --json -o
    c.html` JSON into the .html: with --output, --json is what stdout says."""
    xlsx = tmp_path / "plan.xlsx"
    code, out, err = invoke("plan", str(contoso_yaml), "-o", str(xlsx), "--json")
    assert code == 0, err
    assert json.loads(out)["format"] == "xlsx"
    assert openpyxl.load_workbook(xlsx).sheetnames  # a workbook, not JSON text
    (tmp_path / "h").mkdir()  # a home (empty: nothing deployed yet)
    html = tmp_path / "c.html"
    code, out, err = invoke("check", "-t", str(contoso_yaml), "--home", str(tmp_path / "h"),
                            "--offline", "--format", "html", "--json", "-o", str(html))  # fmt: skip
    assert code in (0, 1), err
    assert json.loads(out)["format"] == "html"
    assert html.read_text().lower().startswith("<!doctype html")
    # on the terminal, two formats are still two
    code, out, _ = invoke("check", "-t", str(contoso_yaml), "--home", str(tmp_path / "h"),
                          "--offline", "--format", "html", "--json")  # fmt: skip
    assert code == 2 and "two formats" in json.loads(out)["message"]


def test_check_refuses_a_suffix_that_names_no_format_and_list_rules_to_a_file(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    out = tmp_path / "r.csv"
    code, _, err = invoke("check", "-t", str(contoso_yaml), "--home", str(tmp_path / "h"),
                          "--offline", "-o", str(out))  # fmt: skip
    assert code == 2 and "cannot tell the report's format" in err, err
    assert not out.exists()
    code, _, err = invoke("check", "--list-rules", "-o", str(tmp_path / "rules.json"))
    assert code == 2 and "redirect" in err
    assert not (tmp_path / "rules.json").exists()


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs")
def test_an_output_that_is_a_fifo_or_a_device_is_refused_and_a_link_is_followed(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """`-o` renamed a file over a FIFO, a device node (as root: `-o /dev/null`) or a link."""
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    code, _, err = invoke("plan", str(contoso_yaml), "-o", str(fifo))
    assert code == 2 and "a FIFO" in err, err
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    code, _, err = invoke("plan", str(contoso_yaml), "-o", "/dev/null", "--format", "csv")
    assert code == 2 and "a device" in err, err
    assert stat.S_ISCHR(Path("/dev/null").stat().st_mode)
    real = tmp_path / "real.json"
    real.write_text("{}")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    code, _, err = invoke("plan", str(contoso_yaml), "-o", str(link))
    assert code == 0, err
    assert link.is_symlink() and json.loads(real.read_text())["certificates"]


def test_check_never_writes_its_report_into_the_homes_data(
    contoso_yaml: Path, tmp_path: Path
) -> None:
    """`check -o HOME/ca/ca.sqlite` wrote a table over the CA's database, and `-o` a store's
    store.json over the index it had just judged."""
    home = tmp_path / "h"
    for folder in ("ca", "servers/fe01.contoso.net", "secrets", "publish"):
        (home / folder).mkdir(parents=True)
    kept = {
        home / "ca" / "ca.sqlite": b"SQLite format 3\x00",
        home / "servers" / "fe01.contoso.net" / "store.json": b"{}",
        home / "last-check.json": b"{}",
    }
    for path, data in kept.items():
        path.write_bytes(data)
    for path in (*kept, home / "secrets" / "new.html", home / "publish" / "r.json"):
        code, _, err = invoke("check", "-t", str(contoso_yaml), "--home", str(home),
                              "--offline", "--format", "json", "-o", str(path))  # fmt: skip
        assert code == 2 and "is inside" in err, (path, err)
    # through a relative path with "..", and through a link
    link = tmp_path / "db-link"
    link.symlink_to(home / "ca" / "ca.sqlite")
    for path in (home / "servers" / ".." / "ca" / "ca.sqlite", link):
        code, _, err = invoke("check", "-t", str(contoso_yaml), "--home", str(home),
                              "--offline", "--format", "json", "-o", str(path))  # fmt: skip
        assert code == 2 and "is inside" in err, (path, err)
    assert all(path.read_bytes() == data for path, data in kept.items())
    assert not (home / "secrets" / "new.html").exists()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--clear", "1", "--ca", "http://127.0.0.1:9"], "--clear does not take --ca"),
        (["--clear", "1", "--key", "ec-p256"], "--clear does not take the request's options"),
        (["--retrieve", "7", "--offline"], "--retrieve does not take --offline"),
        (["--offline", "--assign"], "--offline does not take --assign"),
        (["--offline", "--ca-account", "fe01"], "--offline does not take --ca-account"),
        (["--ca", "http://127.0.0.1:9", "-o", "x.req"], "--ca does not take --output"),
    ],
)
def test_request_options_the_chosen_way_does_not_read_are_refused(
    tmp_path: Path, args: list[str], said: str
) -> None:
    """`request --clear ID --ca URL` forgot the pending request (and its key) and never asked
    the CA; `--offline --assign` wrote a .req and assigned nothing. Each is refused, before the
    store is opened."""
    code, _, err = invoke(
        "request", "--server", "fe01.contoso.net", *args, "--home", str(tmp_path / "h")
    )
    assert code == 2, err
    assert err.startswith(f"error: {said}"), err
    assert "fix: run " in err
    assert not (tmp_path / "h").exists()


@pytest.mark.parametrize("given", ["missing.pem", "garbage.pem", "."])
def test_a_trust_file_that_cannot_be_used_names_the_option(tmp_path: Path, given: str) -> None:
    """The fix said "check --trust"; each refusal now names the option and what it takes."""
    (tmp_path / "garbage.pem").write_text("not a certificate\n")
    (tmp_path / "leaf.pem").write_text("not one either\n")
    code, _, err = invoke(
        "check", "--cert", str(tmp_path / "leaf.pem"), "--trust", str(tmp_path / given)
    )
    assert code == 2, err
    assert err.startswith("error: --trust: "), err
    assert "fix: give --trust the PEM file of a root CA" in err


@pytest.mark.parametrize("command", [["ca", "list"], ["certs"], ["deploy", "topology.yaml"]])
def test_a_home_name_with_a_line_break_is_refused(tmp_path: Path, command: list[str]) -> None:
    """A line break pasted into --home split every message that named the home (and made a
    folder whose name no one could type)."""
    home = tmp_path / "bad\nname"
    code, _, err = invoke(*command, "--home", str(home))
    assert code == 2, err
    assert "holds a control character" in err and "\\n" in err, err
    assert not home.exists()


def test_check_of_a_home_that_does_not_exist_is_refused(contoso_yaml: Path, tmp_path: Path) -> None:
    """A mistyped --home gave 24 findings "missing: request it" for a deployment that exists
    elsewhere; `certs` refused the same home by name."""
    missing = tmp_path / "typo"
    code, _, err = invoke("check", "-t", str(contoso_yaml), "--home", str(missing), "--offline")
    assert code == 2 and f"there is no lyncpki home at {missing}" in err, err


def test_plan_never_writes_over_what_a_home_keeps(contoso_yaml: Path, tmp_path: Path) -> None:
    """`plan -o HOME/topology.yaml -f csv` replaced the home's topology with a CSV (check then
    failed on it); `check -o` refused the same. plan has no --home: the home is found around
    the output."""
    home = tmp_path / "home"
    (home / "servers").mkdir(parents=True)
    kept = home / "topology.yaml"
    shutil.copyfile(contoso_yaml, kept)
    for target in (kept, home / "last-check.json", home / "servers" / "x.csv"):
        code, _, err = invoke("plan", str(contoso_yaml), "-o", str(target), "-f", "csv")
        assert code == 2 and "the output would replace what lyncpki keeps there" in err, err
    assert kept.read_bytes() == contoso_yaml.read_bytes()
    assert not (home / "last-check.json").exists()
    code, _, err = invoke("plan", str(contoso_yaml), "-o", str(home / "plan.csv"))
    assert code == 0, err  # beside what the home keeps: a report may go there


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--client", "fe01.contoso.net"], "--client is for the handshakes"),
        (["--client-pfx", "x.pfx"], "--client-pfx is for the handshakes"),
        (["--client", "fe01.contoso.net", "--client-pfx", "x.pfx", "--live"],
         "--client and --client-pfx each name"),
    ],
)  # fmt: skip
def test_a_client_certificate_without_handshakes_is_refused(
    contoso_yaml: Path, tmp_path: Path, args: list[str], said: str
) -> None:
    """`check --client` without --endpoint or --live passed, no handshake made."""
    code, _, err = invoke("check", "-t", str(contoso_yaml), "--home", str(tmp_path), *args)
    assert code == 2 and said in err, err


def test_a_client_server_without_a_store_is_named_with_the_servers_there(
    tmp_path: Path,
) -> None:
    """`--client nosuch.contoso.net` said "assign one first (lyncpki assign)"."""
    for server in ("fe01.contoso.net", "fe02.contoso.net"):
        folder = tmp_path / "servers" / server
        folder.mkdir(parents=True)
        (folder / "store.json").write_text(json.dumps({"server": server}))
    code, _, err = invoke("check", "--home", str(tmp_path), "--offline",
                          "--endpoint", "127.0.0.1:9=fe01.contoso.net",
                          "--client", "nosuch.contoso.net")  # fmt: skip
    assert code == 2, err
    assert "--client nosuch.contoso.net: the home has no store for that server" in err, err
    assert "fe01.contoso.net, fe02.contoso.net" in err and "lyncpki assign" not in err, err


def test_topology_init_force_never_replaces_a_key_a_database_or_a_homes_files(
    tmp_path: Path,
) -> None:
    """`topology init FILE --force` wrote the example over a home's secrets/ca-passphrase (its
    CA's only passphrase), its ca/root.key and a store's store.json, every other output's
    refusals passed over. It replaces an earlier topology (the home's own too), nothing else."""
    import sqlite3

    home = tmp_path / "home"
    subprocess.run(
        [sys.executable, "-m", "lyncpki", "ca", "init", "--home", str(home), "--name", "T CA",
         "--domain", "contoso.net", "--root-key", "ec-p384", "--key", "ec-p256",
         "--generate-passphrase"],
        env={k: v for k, v in os.environ.items() if not k.startswith("LYNCPKI_")},
        capture_output=True, check=True,
    )  # fmt: skip
    store = home / "servers" / "fe01.contoso.net"
    store.mkdir(parents=True)
    (store / "store.json").write_text('{"version": 1}')
    key = tmp_path / "server.key"
    key.write_text(
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n-----END ENCRYPTED PRIVATE KEY-----\n"
    )
    (tmp_path / "edge.pfx").write_bytes(b"\x30\x82\x01\x00")
    with sqlite3.connect(tmp_path / "ca.sqlite") as db:
        db.execute("create table t (x)")
    kept = [
        home / "secrets" / "ca-passphrase",
        home / "ca" / "root.key",
        home / "ca" / "config.json",
        store / "store.json",
        key,
        tmp_path / "edge.pfx",
        tmp_path / "ca.sqlite",
    ]
    before = {path: path.read_bytes() for path in kept}
    for path in kept:
        code, _, err = invoke("topology", "init", str(path), "--force")
        assert code == 2, (path, err)
        assert "Traceback" not in err and str(path.name) in err and "fix:" in err
    assert {path: path.read_bytes() for path in kept} == before
    (home / "topology.yaml").write_text("sip_domains: [old.example]\n")
    code, _, err = invoke("topology", "init", str(home / "topology.yaml"), "--force")
    assert code == 0, err
    assert "sip_domains:" in (home / "topology.yaml").read_text()


def test_init_force_replaces_a_topology_and_nothing_a_mistyped_name_points_at(
    tmp_path: Path,
) -> None:
    """`topology init fe01.cer --force` replaced an issued certificate with YAML: --force now
    replaces only what may be a topology (a .yaml, .yml or .json text that is no PEM)."""
    import subprocess as sp

    certificate = tmp_path / "fe01.cer"
    request = tmp_path / "fe01.yaml"  # a request saved under a topology's name
    sp.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", str(tmp_path / "k.pem"), "-subj", "/CN=fe01.contoso.net",
         "-out", str(certificate)],
        check=True, capture_output=True,
    )  # fmt: skip
    sp.run(
        ["openssl", "req", "-new", "-key", str(tmp_path / "k.pem"), "-subj", "/CN=fe01",
         "-out", str(request)],
        check=True, capture_output=True,
    )  # fmt: skip
    binary = tmp_path / "odd.yml"
    binary.write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00")
    report = tmp_path / "report.html"
    report.write_text("<!doctype html><p>a report</p>")
    refused = [certificate, request, binary, report]
    before = {path: path.read_bytes() for path in refused}
    for path in refused:
        code, _, err = invoke("topology", "init", str(path), "--force")
        assert code == 2 and "no topology file" in err and "fix:" in err, (path, err)
    assert {path: path.read_bytes() for path in refused} == before
    old = tmp_path / "old.json"
    old.write_text('{"sip_domains": ["old.example"]}')
    code, _, err = invoke("topology", "init", str(old), "--force")
    assert code == 0, err
    assert "sip_domains:" in old.read_text()


def _lazy_groups() -> list[tuple[tuple[str, ...], Any]]:
    import typer.main

    found: list[tuple[tuple[str, ...], Any]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if getattr(command, "lazy", None):
            found.append((path, command))
        for name, sub in subcommands(command).items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def test_a_group_lists_each_lazy_command_by_the_first_paragraph_of_its_help() -> None:
    """A group's `--help` lists its lazily imported commands by the summaries it holds, so
    that listing them imports none; each summary must say what the command's own page says
    first, word for word."""
    groups = _lazy_groups()
    assert {path for path, _ in groups} >= {(), ("ca",)}
    for path, group in groups:
        for name, entry in group.lazy.items():
            command = group.get_command(None, name)
            first = (command.help or "").split("\n\n")[0]
            assert entry.summary == first, f"{' '.join((*path, name))}: {entry.summary!r}"


def test_the_list_of_commands_imports_no_command() -> None:
    """`lyncpki --help` in a fresh process: every command listed with its summary, and no
    command's module imported (importing them all took a second before the list appeared)."""
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "lyncpki", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "400"},
        check=False,
    )
    assert process.returncode == 0, process.stderr
    imported = {line.rsplit("|", 1)[-1].strip() for line in process.stderr.splitlines()}
    commands = sorted(m for m in imported if m.startswith("lyncpki.cli.") and "command" in m)
    assert not commands, commands
    assert not {"sqlalchemy", "httpx", "fastapi"} & imported
    from lyncpki.cli.main import COMMANDS

    for name, entry in COMMANDS.items():
        assert re.search(rf"│ {name} +{re.escape(entry.summary)}", process.stdout), name


def test_a_bad_choice_is_said_without_the_validators_prefix(contoso_yaml: Path) -> None:
    """typer checks a choice with pydantic, whose message began "Value error, " inside lyncpki's
    own sentence ("Invalid value for '--layout': Value error, 'both' is not one of ...")."""
    code, out, err = invoke("plan", str(contoso_yaml), "--layout", "both")
    said = " ".join((out + err).replace("│", " ").split())
    assert code == 2 and "Invalid value for '--layout': 'both' is not one of" in said, said
    process = subprocess.run(  # a usage error as JSON is main()'s: a process of its own
        [sys.executable, "-m", "lyncpki", "plan", str(contoso_yaml), "-f", "yaml", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    message = json.loads(process.stdout)["message"]
    assert process.returncode == 2 and "'yaml' is not one of" in message, message
    assert "Value error" not in message
