"""Benchmark: the embedded CA — issuance throughput, and full CRLs of 100,000 and 1,000,000 entries.

Targets: issuance at least 0.5x the raw signature rate of the issuing CA's key; a full CRL of a
million entries no slower than `openssl ca -gencrl` over the same revocations, in at most
600 MiB. Each figure is printed with a ratio against a baseline measured in the same run, so the
numbers travel between machines:

- issuance: the issuing CA's own RSA-2048 key signing TBS-sized data (PKCS#1 v1.5, SHA-256) as
            many times as certificates are issued: the signature floor of any CA. The requests
            (EC P-256 and RSA-2048 keys: checking their signatures costs differently) are made
            before the clock starts; each issuance is `submit()` of a PEM request, stored in
            the CA's SQLite database. The concurrent row (`--threads`, 2 by default: the
            service's worker threads) is compared with as many threads signing at once, since
            pyca/cryptography signs without the GIL: the same concurrency on both sides;
- CRL:      `openssl ca -gencrl` over an index.txt listing the same serials, revocation times
            and reasons, with an RSA-2048 CA key and SHA-256. The revocations are inserted into
            the CA database with bulk inserts first (not timed); `publish_crl()` then runs in a
            child process of this script so that its peak memory is its own. Each side is run
            `--repeat` times, in turn, and its fastest run is compared (its peak memory is the
            highest of its runs), as the issuance rows are.

Run: .venv/bin/python bench/ca.py [--count 2000] [--crl-sizes 100000,1000000] [--quick]
     [--request-keys ec-p256,rsa2048] [--threads 2] [--skip-issuance] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import functools
import gc
import io
import json
import os
import pstats
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from sqlalchemy import insert

from lyncpki.ca import database as db
from lyncpki.ca.authority import CertificateAuthority
from lyncpki.ca.certificates import random_serial
from lyncpki.ca.crl import Reason
from lyncpki.ca.home import CaHome
from lyncpki.keyspec import KeySpec
from lyncpki.x509.identifiers import serial_hex
from lyncpki.x509.requests import RequestSubject, build_request, request_pem
from timing import timed

PASSPHRASE = b"bench-passphrase"
DOMAIN = "bench.example-corp.se"
# Revocation reasons cycled over the entries; unspecified is written without a reason code by
# both (RFC 5280), the others with one.
REASONS = (
    Reason.UNSPECIFIED,
    Reason.KEY_COMPROMISE,
    Reason.SUPERSEDED,
    Reason.CESSATION_OF_OPERATION,
)
CHUNK = 50_000
MIB = 1024 * 1024


# ---------------------------------------------------------------------------- helpers


def memory() -> dict[str, int]:
    """VmRSS and VmHWM (peak) of this process, in bytes. Not getrusage(): its ru_maxrss
    survives execve, so a child would start at its parent's peak."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) * 1024
    return values


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when the kernel refuses."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def new_ca(folder: Path) -> CertificateAuthority:
    return CertificateAuthority.create(
        CaHome(folder),
        passphrase=PASSPHRASE,
        name="Bench Issuing CA",
        namespaces=[DOMAIN],
        root_key=KeySpec("rsa", 4096),
        key=KeySpec("rsa", 2048),
    )


def print_profile(
    profiler: cProfile.Profile, per: int, what: str, detail: str = "", top: int = 12
) -> None:
    """The `top` entries by cumulative time, per `what` (per issuance, per CRL)."""
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative")
    print(f"\nwhere the time goes, per {what} ({detail}cProfile over {per:,}, cumulative order)")
    print(f"{'cum ms':>9} {'own ms':>9} {'calls':>8}  function")
    shown = 0
    for func in stats.fcn_list:  # type: ignore[attr-defined]
        _cc, calls, own, cumulative, _callers = stats.stats[func]  # type: ignore[attr-defined]
        filename, line, name = func
        if "disable" in name and filename == "~":
            continue
        where = f"{Path(filename).name}:{line}" if filename != "~" else ""
        print(
            f"{cumulative / per * 1e3:9.3f} {own / per * 1e3:9.3f} {calls / per:8.1f}  "
            f"{name} {where}"
        )
        shown += 1
        if shown >= top:
            break


# ---------------------------------------------------------------------------- issuance
REQUEST_KEYS = {"ec-p256": "EC P-256", "rsa2048": "RSA-2048"}
RSA_POOL = 32  # RSA request keys are drawn from a pool: generating 2,000 would take minutes


def make_requests(count: int, kind: str) -> list[bytes]:
    """`count` PEM requests under the CA's namespace, each for its own host name; EC P-256
    requests each have their own key, RSA-2048 ones reuse a pool of keys (the CA does not care:
    the cost of checking a request's signature is the same)."""
    pool = [
        rsa.generate_private_key(65537, 2048) for _ in range(RSA_POOL if kind == "rsa2048" else 0)
    ]
    pems = []
    for i in range(count):
        key = pool[i % RSA_POOL] if pool else ec.generate_private_key(ec.SECP256R1())
        host = f"srv{i:06d}.{DOMAIN}"
        subject = RequestSubject(host, (host, f"pool{i % 50}.{DOMAIN}"), organization="Bench")
        pems.append(request_pem(build_request(key, subject)))
    return pems


BATCH = 100


def in_threads(work: list[Callable[[], None]]) -> float:
    """Seconds for `work` run at once, one function per thread, started together."""
    start = threading.Barrier(len(work) + 1)
    errors: list[BaseException] = []

    def run(function: Callable[[], None]) -> None:
        start.wait()
        try:
            function()
        except BaseException as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in work]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if errors:
        raise errors[0]
    return seconds


def bench_issuance(
    folder: Path, count: int, kinds: list[str], repeat: int, threads: int, profile: bool
) -> dict[str, Any]:
    """Seconds to submit `count` requests of each key kind (best of `repeat`): one request at a
    time, in batches, and from `threads` threads at once (the group commit shares their
    transactions); and to sign as many TBS-sized blobs with the issuing CA's key, from one
    thread and from `threads` threads (pyca/cryptography releases the GIL while signing). The
    runs are interleaved."""
    ca = new_ca(folder)
    requests = {kind: make_requests(count, kind) for kind in kinds}
    issued: list[Any] = []

    def issue_all(pems: list[bytes]) -> None:
        issued.clear()
        for pem in pems:
            issued.append(ca.submit(pem, requester="bench"))

    for pems in requests.values():  # warm-up, and certificates to size the baseline's data on
        issue_all(pems)
        assert all(r.status == "issued" for r in issued), "a request was not issued"
    tbs = len(issued[-1].certificate.tbs_certificate_bytes)
    key = ca.issuer.key
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    blobs = [os.urandom(tbs) for _ in range(count)]

    def issue_batched(pems: list[bytes]) -> None:
        """submit_many in batches of BATCH: signed one by one, stored one transaction a batch
        (what `deploy` does with a topology's certificates)."""
        issued.clear()
        for start in range(0, len(pems), BATCH):
            issued.extend(ca.submit_many(pems[start : start + BATCH], requester="bench"))

    def sign(share: list[bytes]) -> None:
        for blob in share:
            key.sign(blob, padding.PKCS1v15(), hashes.SHA256())

    def issue_share(share: list[bytes]) -> None:
        results = [ca.submit(pem, requester="bench") for pem in share]
        issued.extend(results)  # list.extend is atomic under the GIL

    def issue_threaded(pems: list[bytes]) -> float:
        issued.clear()
        return in_threads(
            [functools.partial(issue_share, pems[n::threads]) for n in range(threads)]
        )

    ways = ("single", "batched", "threads") if threads > 1 else ("single", "batched")
    t_sign = float("inf")
    t_sign_threads = float("inf")
    t_issue: dict[tuple[str, str], float] = {}
    for _ in range(repeat):  # interleaved, so that drift hits all alike
        t_sign = min(t_sign, timed(functools.partial(sign, blobs), 1)[0])
        if threads > 1:
            seconds = in_threads(
                [functools.partial(sign, blobs[n::threads]) for n in range(threads)]
            )
            t_sign_threads = min(t_sign_threads, seconds)
        for kind, pems in requests.items():
            for way in ways:
                if way == "threads":
                    seconds = issue_threaded(pems)
                else:
                    run = issue_all if way == "single" else issue_batched
                    seconds = timed(functools.partial(run, pems), 1)[0]
                t_issue[kind, way] = min(t_issue.get((kind, way), seconds), seconds)
                assert len(issued) == count
                assert all(getattr(r, "status", None) == "issued" for r in issued)
    if profile:
        kind = kinds[0]
        sample = min(count, 500)
        profiler = cProfile.Profile()
        profiler.enable()
        for pem in requests[kind][:sample]:
            ca.submit(pem, requester="bench")
        profiler.disable()
        print_profile(profiler, sample, "issuance", f"{REQUEST_KEYS[kind]} requests, ")
    ca.engine.dispose()
    return {
        "count": count,
        "tbs": tbs,
        "issue": t_issue,
        "sign": t_sign,
        "sign_threads": t_sign_threads,
        "threads": threads,
    }


# ---------------------------------------------------------------------------- CRLs
def utctime(moment: dt.datetime) -> str:
    """openssl's index time: UTCTime YYMMDDHHMMSSZ."""
    return moment.astimezone(dt.UTC).strftime("%y%m%d%H%M%SZ")


class RevocationSet:
    """One CA database and one openssl index holding the same revoked certificates, grown in
    steps (the setup of each CRL size; not timed)."""

    def __init__(self, folder: Path) -> None:
        self.ca = new_ca(folder / "lyncpki")
        self.home = folder / "lyncpki"
        self.openssl = folder / "openssl"
        self.size = 0
        self.start = dt.datetime.now(dt.UTC) - dt.timedelta(days=300)
        self.random = random.Random(5280)
        make_openssl_ca(self.openssl)

    def grow(self, size: int) -> None:
        slug = self.ca.config.slug
        with (self.openssl / "index.txt").open("a", encoding="ascii") as index:
            while self.size < size:
                stop = min(size, self.size + CHUNK)
                certificates, revocations, lines = [], [], []
                for i in range(self.size, stop):
                    serial = serial_hex(random_serial())
                    host = f"srv{i:07d}.{DOMAIN}"
                    not_before = self.start + dt.timedelta(seconds=i * 20)
                    not_after = not_before + dt.timedelta(days=730)
                    revoked_at = not_before + dt.timedelta(
                        seconds=self.random.randrange(3600, 86400),
                        microseconds=self.random.randrange(1_000_000),
                    )
                    reason = REASONS[i % len(REASONS)]
                    certificates.append({
                        "serial": serial, "ca": slug, "subject": f"CN={host}", "sans": host,
                        "template": "WebServer", "requester": "bench", "request_id": None,
                        "not_before": not_before, "not_after": not_after,
                        "thumbprint": "0" * 40, "key": "rsa2048", "issued_at": not_before,
                        "status": "revoked", "der": b"x",
                    })  # fmt: skip
                    revocations.append({
                        "serial": serial, "ca": slug, "reason": reason.value,
                        "revoked_at": revoked_at, "revoked_by": "bench",
                    })  # fmt: skip
                    code = "" if reason is Reason.UNSPECIFIED else f",{reason.value}"
                    lines.append(
                        f"R\t{utctime(not_after)}\t{utctime(revoked_at)}{code}\t"
                        f"{serial.upper()}\tunknown\t/CN={host}\n"
                    )
                with self.ca.writer.begin() as conn:
                    conn.execute(insert(db.certificates), certificates)
                    conn.execute(insert(db.revocations), revocations)
                index.writelines(lines)
                self.size = stop

    @property
    def crl_der(self) -> Path:
        return self.ca.home.crl_file(self.ca.config.slug)


OPENSSL_CNF = """\
[ca]
default_ca = bench
[bench]
dir = {dir}
database = $dir/index.txt
new_certs_dir = $dir/newcerts
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_crl_days = 7
default_days = 730
unique_subject = no
policy = any
crl_extensions = crl_ext
[any]
commonName = supplied
[crl_ext]
authorityKeyIdentifier = keyid:always
"""


def make_openssl_ca(folder: Path) -> None:
    (folder / "newcerts").mkdir(parents=True)
    (folder / "openssl.cnf").write_text(OPENSSL_CNF.format(dir=folder))
    (folder / "index.txt").write_text("")
    (folder / "index.txt.attr").write_text("unique_subject = no\n")
    (folder / "serial").write_text("01\n")
    (folder / "crlnumber").write_text("01\n")
    run([
        "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "3650",
        "-subj", "/CN=Bench openssl CA", "-keyout", str(folder / "ca.key"),
        "-out", str(folder / "ca.crt"),
    ])  # fmt: skip


def run(command: list[str], **kwargs: Any) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:3])}... failed:\n{result.stderr}")
    return result


# Where /usr/bin/time is missing: a bare interpreter that runs the command and prints the
# child's peak RSS as time -v does (the child's ru_maxrss starts at this small launcher's).
LAUNCHER = (
    "import os, subprocess, sys\n"
    "process = subprocess.Popen(sys.argv[1:])\n"
    "_pid, status, usage = os.wait4(process.pid, 0)\n"
    "process.returncode = os.waitstatus_to_exitcode(status)\n"
    "print(f'Maximum resident set size (kbytes): {usage.ru_maxrss}', file=sys.stderr)\n"
    "sys.exit(process.returncode)\n"
)


def measure_process(command: list[str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (bytes) and stdout of a command, under /usr/bin/time -v."""
    time_tool = shutil.which("time", path="/usr/bin:/bin")
    wrapper = [time_tool, "-v"] if time_tool else [sys.executable, "-S", "-c", LAUNCHER]
    start = time.perf_counter()
    result = run([*wrapper, *command])
    seconds = time.perf_counter() - start
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    assert found, result.stderr
    return seconds, int(found.group(1)) * 1024, result.stdout


def ours(revocations: RevocationSet, profile: bool) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child-crl", str(revocations.home)]
    if profile:
        command.append("--profile")
    result = run(command)
    if profile:
        print(result.stderr, end="")
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


def theirs(revocations: RevocationSet) -> dict[str, Any]:
    folder = revocations.openssl
    out = folder / "crl.pem"
    seconds, rss, _ = measure_process([
        "openssl", "ca", "-gencrl", "-config", str(folder / "openssl.cnf"), "-out", str(out),
    ])  # fmt: skip
    return {"seconds": seconds, "peak": rss}


def best_of(revocations: RevocationSet, repeat: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each side's fastest of `repeat` runs, taken in turn (ours, openssl, ours, ...) so that
    drift of the machine hits both alike, as the issuance rows are timed; the peak memory
    reported is each side's highest of its runs."""
    mine = [ours(revocations, profile=False)]
    other = [theirs(revocations)]
    for _ in range(repeat - 1):
        mine.append(ours(revocations, profile=False))
        other.append(theirs(revocations))
    return fastest(mine), fastest(other)


def fastest(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run, with the highest peak memory of all the runs."""
    best = min(runs, key=lambda run: float(run["seconds"]))
    return {**best, "peak": max(run["peak"] for run in runs)}


def check_crl(path: Path, ca_cert: Path, *, der: bool, expect: int | None) -> str:
    """openssl parses the CRL and verifies its signature; a summary of the head of its text.
    With `expect`, every entry is counted in openssl's text (slow: once, at the small size)."""
    count = expect is not None
    form = ["-inform", "DER"] if der else []
    verify = run(["openssl", "crl", *form, "-in", str(path), "-CAfile", str(ca_cert), "-noout"])
    if "verify OK" not in verify.stderr + verify.stdout:
        raise SystemExit(f"{path}: the CRL does not verify\n{verify.stderr}")
    text = subprocess.Popen(
        ["openssl", "crl", *form, "-in", str(path), "-noout", "-text"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert text.stdout is not None
    head: list[str] = []
    entries = 0
    for line in text.stdout:
        if len(head) < 40:
            head.append(line.strip())
        elif not count:
            break
        if count and line.lstrip().startswith("Serial Number:"):
            entries += 1
    text.kill()
    text.wait()
    if not head or not head[0].startswith("Certificate Revocation List"):
        raise SystemExit(f"{path}: openssl cannot read the CRL:\n" + "\n".join(head))
    if "Revoked Certificates:" not in head:
        raise SystemExit(f"{path}: no revoked certificates listed:\n" + "\n".join(head))
    fields = [h for h in head if h.startswith(("Signature Algorithm:", "Issuer:"))][:2]
    number = head[head.index("X509v3 CRL Number:") + 1] if "X509v3 CRL Number:" in head else "?"
    summary = f"verify OK, {', '.join(fields)}, CRL number {number}"
    if count and entries != expect:
        raise SystemExit(f"{path}: openssl lists {entries:,} entries, not {expect:,}")
    return summary + (f", {entries:,} entries counted" if count else "")


def child_crl(home: str, profile: bool) -> None:
    """Hidden subcommand: open the CA, publish one full CRL, report time and memory as JSON."""
    ca = CertificateAuthority.open(CaHome(home), PASSPHRASE)
    gc.collect()
    startup = memory()
    reset = reset_peak()
    before = memory()["VmRSS"]
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    info = ca.publish_crl(actor="bench")
    if profiler:
        profiler.disable()
    seconds = time.perf_counter() - start
    after = memory()
    peak = after["VmHWM"] if reset else max(after["VmHWM"], startup["VmHWM"])
    if profiler:
        stdout, sys.stdout = sys.stdout, io.StringIO()
        print_profile(profiler, 1, "CRL", f"{info.entries:,} entries, ")
        sys.stderr.write(sys.stdout.getvalue())
        sys.stdout = stdout
    print(json.dumps({"seconds": seconds, "before": before, "peak": peak, "entries": info.entries}))


# ---------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="certificates (default 2000)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs of each timed step, the fastest kept (3)"
    )
    parser.add_argument(
        "--crl-sizes", default="100000,1000000", help="revoked entries per CRL, comma-separated"
    )
    parser.add_argument(
        "--request-keys",
        default="ec-p256,rsa2048",
        help="key kinds of the requests issued, comma-separated (default ec-p256,rsa2048)",
    )
    parser.add_argument(
        "--threads", type=int, default=2, help="threads of the concurrent issuance row (2)"
    )
    parser.add_argument("--quick", action="store_true", help="CRLs of 10,000 and 100,000")
    parser.add_argument("--profile", action="store_true", help="print where the time goes")
    parser.add_argument("--skip-issuance", action="store_true", help="CRLs only")
    parser.add_argument("--child-crl", metavar="HOME", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_crl:
        child_crl(args.child_crl, args.profile)
        return
    sizes = [10_000, 100_000] if args.quick else [int(s) for s in args.crl_sizes.split(",")]
    kinds = args.request_keys.split(",")
    if not set(kinds) <= set(REQUEST_KEYS):
        parser.error(f"--request-keys: choose from {', '.join(REQUEST_KEYS)}")
    sizes.sort()
    if not shutil.which("openssl"):
        raise SystemExit("openssl is needed for the CRL baseline")

    with tempfile.TemporaryDirectory(prefix="lyncpki-bench-") as temp:
        folder = Path(temp)
        issuance = None
        if not args.skip_issuance:
            issuance = bench_issuance(
                folder / "issuance", args.count, kinds, args.repeat, args.threads, args.profile
            )
        revocations = RevocationSet(folder / "crl")
        crl_rows = []
        for number, size in enumerate(sizes):
            start = time.perf_counter()
            revocations.grow(size)
            setup = time.perf_counter() - start
            if args.profile and number == 0:
                ours(revocations, profile=True)  # a run of its own: cProfile slows it down
            mine, other = best_of(revocations, args.repeat)
            assert mine["entries"] == size, mine
            expect = size if number == 0 else None
            checks = (
                check_crl(
                    revocations.crl_der,
                    revocations.ca.home.cert_file("issuing"),
                    der=True,
                    expect=expect,
                ),
                check_crl(
                    revocations.openssl / "crl.pem",
                    revocations.openssl / "ca.crt",
                    der=False,
                    expect=expect,
                ),
            )
            print(f"\nCRL of {size:,} (setup {setup:.1f} s, not timed)")
            print(f"  lyncpki: {checks[0]}, {revocations.crl_der.stat().st_size / MIB:.1f} MiB DER")
            print(f"  openssl: {checks[1]}")
            crl_rows.append((size, mine, other))
        revocations.ca.engine.dispose()

    print(f"\n{'step':<40} {'seconds':>8} {'per s':>9} {'peak MiB':>12}  {'target':<20} "
          f"{'met':<4} baseline (same run)")  # fmt: skip
    if issuance:
        count, threads = issuance["count"], issuance["threads"]
        floors = {
            "single": (count / issuance["sign"], "1 thread", issuance["sign"]),
            "batched": (count / issuance["sign"], "1 thread", issuance["sign"]),
            "threads": (
                count / issuance["sign_threads"],
                f"{threads} threads",
                issuance["sign_threads"],
            ),
        }
        for (kind, way), seconds in issuance["issue"].items():
            rate = count / seconds
            floor, how_signed, t_sign = floors[way]
            ratio = rate / floor
            how = {
                "single": "",
                "batched": f", batches of {BATCH}",
                "threads": f", {threads} threads",
            }
            label = f"issue {count:,} ({REQUEST_KEYS[kind]}{how[way]})"
            print(f"{label:<40} {seconds:8.3f} {rate:9.0f} {'':>12}  {'>= 0.50x':<20} "
                  f"{verdict(ratio >= 0.5):<4} {ratio:5.2f}x RSA-2048 signatures by the same "
                  f"key, {how_signed} ({floor:.0f}/s: {t_sign:.3f} s, {issuance['tbs']}-byte "
                  "TBS)")  # fmt: skip
    for size, mine, other in crl_rows:
        peak = mine["peak"] / MIB
        peak_text = f"{peak:.0f} (+{(mine['peak'] - mine['before']) / MIB:.0f})"
        ratio = mine["seconds"] / other["seconds"]
        if size >= 1_000_000:
            target, met = "<= 1.00x, <= 600 MiB", verdict(ratio <= 1 and peak <= 600)
        elif size >= 100_000:
            target, met = "<= 1.00x", verdict(ratio <= 1)
        else:
            target, met = "-", "-"
        print(f"{f'full CRL {size:,}':<24} {mine['seconds']:8.3f} {size / mine['seconds']:9.0f} "
              f"{peak_text:>12}  {target:<20} {met:<4} {ratio:5.2f}x time, "
              f"{mine['peak'] / other['peak']:4.2f}x memory of openssl ca -gencrl "
              f"({other['seconds']:.3f} s, {other['peak'] / MIB:.0f} MiB)")  # fmt: skip
    print(
        "\npeak MiB: the whole process at its peak (+ what publishing added to the process "
        "after opening the CA); openssl: its peak RSS under time -v"
    )


def verdict(ok: bool) -> str:
    return "yes" if ok else "NO"


if __name__ == "__main__":
    main()
