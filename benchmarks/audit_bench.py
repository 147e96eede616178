"""Benchmark `kitty-ops audit` against `git log --raw` over the same history.

    python benchmarks/audit_bench.py [--commits 10000] [--rounds 5] [--keep DIR]

Builds, with `git fast-import`, a throw-away repository whose history is
N commits, each adding one completed Op record (N records in all, as Op
commits make them), then times whole processes, alternating the two commands
within each round, and prints the medians and their ratio (target <= 5).

It uses the `kitty-ops` installed next to the running Python.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

BIN = Path(sys.executable).parent
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
TARGET_RATIO = 5.0
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
BASE_MS = 1_767_225_600_000  # 2026-01-01


def ulid_at(n: int) -> str:
    value = (BASE_MS + n) << 80 | n
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def record(op_id: str, n: int) -> bytes:
    started = {"event": "started", "invocation_id": op_id, "profile_id": f"profile-{n % 7}",
               "action": ("implement", "review", "plan")[n % 3], "request_text": f"benchmark op {n}",
               "actor": "bench", "started_at": "2026-01-01T00:00:00+00:00"}
    completed = {"event": "completed", "invocation_id": op_id, "completed_at": "2026-01-01T00:05:00+00:00",
                 "outcome": "done", "closed_by": "agent"}
    return (json.dumps(started) + "\n" + json.dumps(completed) + "\n").encode()


def data(payload: bytes) -> bytes:
    return b"data %d\n%s\n" % (len(payload), payload)


def fast_import_stream(commits: int):
    """One commit per Op record, as the Op commit makes it (subject, blank line, trailer)."""
    for n in range(commits):
        op_id = ulid_at(n)
        message = f"op(profile-{n % 7}): bench [{op_id[:8]}]\n\nOp-Id: {op_id}\n".encode()
        yield b"commit refs/heads/main\n"
        yield b"committer Bench <bench@example.com> %d +0000\n" % (1_767_225_600 + n)
        yield data(message)
        yield f"M 100644 inline kitty-ops/{op_id}.jsonl\n".encode()
        yield data(record(op_id, n))
    yield b"done\n"


def build(root: Path, commits: int) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    importer = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=root, stdin=subprocess.PIPE)
    for chunk in fast_import_stream(commits):
        importer.stdin.write(chunk)
    importer.stdin.close()
    if importer.wait() != 0:
        raise SystemExit("git fast-import failed")
    # No checkout: the audit reads history only (HEAD is refs/heads/main already).


def timed(command: list[str], cwd: Path, expect: int = 0) -> float:
    begin = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - begin
    if result.returncode != expect:
        raise SystemExit(f"{' '.join(command)} exited {result.returncode}: {result.stderr.decode()[-500:]}")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", metavar="DIR", help="build the repository in DIR and keep it")
    args = parser.parse_args()
    kitty_ops = shutil.which("kitty-ops", path=str(BIN)) or "kitty-ops"
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="kitty-ops-audit-bench-"))
    try:
        repo = work / "repo"
        if not repo.exists():
            begin = time.perf_counter()
            build(repo, args.commits)
            print(f"built {args.commits} commits in {time.perf_counter() - begin:.1f}s", file=sys.stderr)
        git_log = ["git", "log", "--raw", "HEAD"]
        audit = [kitty_ops, "audit"]
        timed(audit, repo)  # warm the page cache and the byte-code once
        samples: dict[str, list[float]] = {"git": [], "audit": []}
        for _ in range(args.rounds):
            samples["git"].append(timed(git_log, repo))
            samples["audit"].append(timed(audit, repo))
        git_ms = statistics.median(samples["git"]) * 1000
        audit_ms = statistics.median(samples["audit"]) * 1000
        ratio = audit_ms / git_ms
        verdict = "met" if ratio <= TARGET_RATIO else "MISSED"
        git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
        print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python"
              f" {platform.python_version()}, {git_version}; medians of {args.rounds} rounds")
        print("| date | commits | records | git log --raw ms | kitty-ops audit ms | ratio | target |")
        print("|---|---:|---:|---:|---:|---:|---|")
        print(f"| {date.today().isoformat()} | {args.commits:,} | {args.commits:,} | {git_ms:.1f} | {audit_ms:.1f}"
              f" | {ratio:.2f} | <= {TARGET_RATIO:g} {verdict} |")
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
