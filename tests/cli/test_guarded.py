"""Every command's work runs inside `guarded` (domain errors become messages and exit 2, bugs a
short report, never a traceback). A command function that hands its options to a helper must
hand them to a guarded one: a helper inserted between `@guarded()` and the function it
decorated once left `lyncpki import` printing a traceback for a missing passphrase."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lyncpki.cli

CLI = Path(lyncpki.cli.__file__).parent


def _delegations(source: str) -> list[tuple[str, str, bool]]:
    """(command function, helper it calls, whether the helper is guarded) for each module-level
    function whose whole body (docstring aside) is one call of another module-level function."""
    tree = ast.parse(source)
    functions = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    guarded = {
        name
        for name, f in functions.items()
        if any("guarded" in ast.unparse(d) for d in f.decorator_list)
    }
    found = []
    for name, function in functions.items():
        body = [
            s
            for s in function.body
            if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        ]
        if len(body) != 1 or not isinstance(body[0], ast.Expr):
            continue
        call = body[0].value
        if (
            isinstance(call, ast.Call)
            and isinstance(call.func, ast.Name)
            and call.func.id in functions
        ):
            found.append((name, call.func.id, call.func.id in guarded))
    return found


@pytest.mark.parametrize("module", sorted(CLI.glob("*_command.py")), ids=lambda p: p.stem)
def test_commands_hand_their_work_to_guarded_helpers(module: Path) -> None:
    delegations = _delegations(module.read_text("utf-8"))
    assert [d for d in delegations if not d[2]] == []


def test_the_check_finds_an_unguarded_helper() -> None:
    source = (
        "@guarded()\ndef _probe(x): return x\n\ndef _run(x): ...\n\n"
        "def command(x):\n    '''doc'''\n    _run(x)\n"
    )
    assert _delegations(source) == [("command", "_run", False)]
    assert len(_delegations(Path(CLI / "store_command.py").read_text("utf-8"))) >= 5


def test_a_tls_refusal_is_not_called_a_filesystem_error(capsys: pytest.CaptureFixture[str]) -> None:
    """ssl.SSLError is an OSError: a key that did not match its certificate was reported as
    "the system refused ... check the files and folders given to this command"."""
    import json
    import ssl

    import typer

    from lyncpki.cli.output import guarded

    @guarded()
    def load(as_json: bool) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(__file__)  # no certificate in it: OpenSSL refuses

    with pytest.raises(typer.Exit):
        load(True)
    said = json.loads(capsys.readouterr().out)
    assert said["message"].startswith("TLS refused a certificate or key")
    assert "files and folders" not in said["fix"]


@pytest.mark.parametrize("as_json", [False, True])
def test_a_database_that_fails_is_an_error_not_a_bug(
    as_json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ca issue` or `ca revoke` on a full disk said "internal error: OperationalError ...
    this is a bug in lyncpki" (exit 70): the database's own words, exit 2."""
    import json

    import typer
    from sqlalchemy.exc import OperationalError

    from lyncpki.cli.output import guarded

    @guarded()
    def work(as_json: bool) -> None:
        raise OperationalError("INSERT ...", {}, Exception("database or disk is full"))

    with pytest.raises(typer.Exit) as ended:
        work(as_json=as_json)
    assert ended.value.exit_code == 2
    said = capsys.readouterr()
    if as_json:
        document = json.loads(said.out)
        assert "database or disk is full" in document["message"]
        assert "free space" in document["fix"] and "bug" not in document["fix"]
    else:
        assert "database or disk is full" in said.err and "internal error" not in said.err


def test_ctrl_c_while_the_commands_are_imported_is_one_line_not_a_traceback() -> None:
    """A Ctrl-C in the first half second (Python importing typer, SQLAlchemy...) printed a
    traceback: it happens before any handler of lyncpki exists but the entry point's. The
    interrupt is raised here by an import hook, where a real one would land."""
    import subprocess
    import sys

    hook = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'typer':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "sys.argv = ['lyncpki', 'ca', 'list']\n"
        "from lyncpki.cli.entry import main\n"
        "main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", hook], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 130, done
    assert done.stderr == "interrupted\n", done.stderr


def test_a_database_refusal_says_its_first_line_only(capsys: pytest.CaptureFixture[str]) -> None:
    """A SQLAlchemy error's text holds the SQL and its parameters (an account's scrypt hash):
    guarded printed all of it as an internal error (exit 70)."""
    import json

    import typer
    from sqlalchemy.exc import IntegrityError

    from lyncpki.cli.output import EXIT_INPUT, guarded

    class Orig(Exception):
        pass

    @guarded()
    def add(as_json: bool) -> None:
        raise IntegrityError(
            "INSERT INTO accounts (name, password_hash) VALUES (?, ?)",
            {"name": "bob", "password_hash": "scrypt$16384$secret-hash"},
            Orig('duplicate key value violates unique constraint "accounts_pkey"\nDETAIL: x'),
        )

    for as_json in (True, False):
        with pytest.raises(typer.Exit) as exited:
            add(as_json)
        assert exited.value.exit_code == EXIT_INPUT
        out, err = capsys.readouterr()
        said = out + err
        assert "accounts_pkey" in said
        for leaked in ("scrypt", "INSERT", "DETAIL", "internal error", "InternalError"):
            assert leaked not in said, said
        if as_json:
            assert json.loads(out)["message"].startswith("the CA database refused")
