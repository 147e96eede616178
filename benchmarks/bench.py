"""Benchmark kitty-ops against the commands a person runs, in one run.

    python benchmarks/bench.py [--sizes 0,100,1000,10000,100000] [--rounds 9]
        [--complete-sizes 0,10000,100000] [--spec-kitty PATH] [--markdown FILE]

Builds throw-away repositories with N committed, completed Op records and
N/100 open Ops (fresh, untracked, as agents at work leave them), then times
whole processes, alternating the commands it compares within each round, and
prints min / median / max:

- `kitty-ops-orphans` at each size, beside `python -c pass`;
- `kitty-ops list --limit 20` and `kitty-ops doctor ops` at each size (and
  `spec-kitty doctor ops` in the same repositories with `--spec-kitty PATH`);
- `kitty-ops complete` (with its Op commit) beside a person's own
  `git add f && git commit -q -m x` of one small file in the same repository;
  and `kitty_ops.complete()` timed inside one Python process, beside the same;
- the `git commit` a person feels with pre-commit and kitty-ops' hooks
  installed, beside the same commit with kitty-ops' hooks skipped (`SKIP=`).

It uses the `kitty-ops` (and `pre-commit`) installed next to the running Python.
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
from datetime import datetime, timezone
from pathlib import Path

from gitrun import git

BIN = Path(sys.executable).parent
# Byte-compiled modules are part of an installed tool's start-up; let them be written.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
OPEN_FRACTION = 100  # one open Op per this many committed records
HOOK_ROUNDS_FACTOR = 5  # the hook is quick and its ratios are tight: more samples
KITTY_HOOKS = ("kitty-ops-orphans", "kitty-ops-validate", "kitty-ops-link")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PERSON_COMMIT = "echo {n} > notes.txt && git add notes.txt && git commit -q -m x"


def ulid_at(n: int, base_ms: int) -> str:
    value = (base_ms + n) << 80 | n
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def started_line(op_id: str, n: int, started_at: str) -> str:
    return json.dumps({
        "event": "started", "invocation_id": op_id, "profile_id": f"profile-{n % 7}",
        "action": ("implement", "review", "plan")[n % 3], "request_text": f"benchmark op {n}",
        "actor": "bench", "started_at": started_at,
    }) + "\n"


def record_text(op_id: str, n: int) -> str:
    completed = {
        "event": "completed", "invocation_id": op_id, "completed_at": "2026-01-01T00:05:00+00:00",
        "outcome": "done", "closed_by": "agent",
    }
    return started_line(op_id, n, "2026-01-01T00:00:00+00:00") + json.dumps(completed) + "\n"


def precommit_config() -> str:
    """kitty-ops' hooks as `.pre-commit-hooks.yaml` declares them, run from this
    installation (`language: system`: what pre-commit's own environment would run)."""
    return f"""repos:
- repo: local
  hooks:
  - id: kitty-ops-orphans
    name: kitty-ops orphans
    entry: {BIN / 'kitty-ops-orphans'}
    language: system
    pass_filenames: false
    always_run: true
    stages: [pre-commit]
  - id: kitty-ops-validate
    name: kitty-ops validate
    entry: {BIN / 'kitty-ops-validate'}
    language: system
    files: ^kitty-ops(/|$)
    types: []
    stages: [pre-commit]
  - id: kitty-ops-link
    name: kitty-ops link
    entry: {BIN / 'kitty-ops-link'}
    language: system
    pass_filenames: true
    always_run: true
    stages: [prepare-commit-msg]
"""


def build_repo(parent: Path, size: int) -> Path:
    root = parent / f"repo-{size}"
    (root / "kitty-ops").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Bench")
    git(root, "config", "user.email", "bench@example.com")
    git(root, "config", "commit.gpgsign", "false")
    (root / "README.md").write_text("bench\n")
    (root / "notes.txt").write_text("notes\n")
    (root / ".pre-commit-config.yaml").write_text(precommit_config())
    base_ms = int(time.time() * 1000) - 10 * 86_400_000
    for n in range(size):
        op_id = ulid_at(n, base_ms)
        (root / "kitty-ops" / f"{op_id}.jsonl").write_text(record_text(op_id, n))
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"{size} records")
    now = datetime.now(timezone.utc).isoformat()
    for n in range(size // OPEN_FRACTION):
        op_id = ulid_at(size + n, int(time.time() * 1000))
        (root / "kitty-ops" / f"{op_id}.jsonl").write_text(started_line(op_id, n, now))
    code = ("from kitty_ops.store.index import rebuild; rebuild('.');"
            "from kitty_ops.store.exclude import ensure_local_files_excluded; ensure_local_files_excluded('.')")
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True)
    return root


def settle(repos: dict[int, Path]) -> None:
    """Let git's index stop being racy (files as new as the index are re-read by
    every git command until the index is written again), as it is in use."""
    time.sleep(1.1)
    for root in repos.values():
        git(root, "update-index", "-q", "--refresh")


def run_kitty(root: Path, *args: str) -> str:
    return subprocess.run(
        [str(BIN / "kitty-ops"), *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


def timed(command: list[str] | str, cwd: Path, env: dict[str, str] | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   shell=isinstance(command, str), env=env)
    return time.perf_counter() - start


def max_rss_kib(command: list[str], cwd: Path) -> int:
    """Peak resident memory of the command and the processes it waited for (git)."""
    process = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(process.pid, 0)
    return usage.ru_maxrss  # KiB on Linux


SELF_RSS = """
import resource, sys
from kitty_ops.cli import main
sys.argv = ["kitty-ops", "doctor", "ops"]
try:
    main()
except SystemExit:
    pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def python_rss_kib(cwd: Path) -> int:
    """Peak resident memory of doctor's own Python process, git's excluded."""
    result = subprocess.run([sys.executable, "-c", SELF_RSS], cwd=cwd, capture_output=True, text=True, check=True)
    return int(result.stderr.strip().splitlines()[-1])


def spread(samples: list[float]) -> dict:
    """min / median / max in milliseconds."""
    return {"min": min(samples) * 1000, "median": statistics.median(samples) * 1000, "max": max(samples) * 1000}


def bench_alternating(commands: dict[str, tuple[list[str] | str, Path]], rounds: int) -> dict:
    """Each command once per round, in turn, after one warm-up run each."""
    for command, cwd in commands.values():
        timed(command, cwd)  # warm-up: byte-compile, fill the page cache, build caches
    samples: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, (command, cwd) in commands.items():
            samples[name].append(timed(command, cwd))
    return {name: spread(values) for name, values in samples.items()}


def bench_hook(repos: dict[int, Path], rounds: int) -> dict:
    commands = {"python": ([sys.executable, "-c", "pass"], Path.cwd())}
    commands.update({str(size): ([str(BIN / "kitty-ops-orphans")], root) for size, root in repos.items()})
    return bench_alternating(commands, rounds * HOOK_ROUNDS_FACTOR)


def bench_list(repos: dict[int, Path], rounds: int) -> dict:
    listing = [str(BIN / "kitty-ops"), "list", "--limit", "20"]
    return bench_alternating({str(size): (listing, root) for size, root in repos.items()}, rounds)


def bench_doctor(repos: dict[int, Path], rounds: int, spec_kitty: str | None) -> dict:
    doctor = [str(BIN / "kitty-ops"), "doctor", "ops"]
    commands = {str(size): (doctor, root) for size, root in repos.items()}
    if spec_kitty:
        commands.update({f"spec-kitty {size}": ([spec_kitty, "doctor", "ops"], root) for size, root in repos.items()})
    results = bench_alternating(commands, rounds)
    for size, root in repos.items():
        results[str(size)]["max_rss_kib"] = max_rss_kib(doctor, root)
        results[str(size)]["python_rss_kib"] = python_rss_kib(root)
    return results


def bench_complete(root: Path, rounds: int) -> dict:
    """`kitty-ops complete` beside a person's `git add f && git commit -m x`, alternating."""
    ops, plain = [], []
    for n in range(rounds + 1):
        op_id = run_kitty(root, "start", "--profile", "bench", "--action", "complete")
        ops.append(timed([str(BIN / "kitty-ops"), "complete", op_id], root))
        plain.append(timed(PERSON_COMMIT.format(n=n), root))
    return {"complete": spread(ops[1:]), "git": spread(plain[1:])}  # the first round warms up


IN_PROCESS = """
import json, subprocess, sys, time
import kitty_ops
rounds, script = int(sys.argv[1]), sys.argv[2]
ops, plain = [], []
for n in range(rounds + 1):
    op_id = kitty_ops.start("bench", "in-process").invocation_id
    start = time.perf_counter()
    kitty_ops.complete(op_id)
    ops.append(time.perf_counter() - start)
    start = time.perf_counter()
    subprocess.run(script.format(n=n), shell=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    plain.append(time.perf_counter() - start)
print(json.dumps({"complete": ops[1:], "git": plain[1:]}))
"""


def bench_in_process(root: Path, rounds: int) -> dict:
    """`kitty_ops.complete()` in one Python process beside the same shell commit."""
    result = subprocess.run([sys.executable, "-c", IN_PROCESS, str(rounds), PERSON_COMMIT], cwd=root,
                            check=True, capture_output=True, text=True)
    samples = json.loads(result.stdout.strip().splitlines()[-1])
    return {name: spread(values) for name, values in samples.items()}


def bench_person_commit(root: Path, rounds: int) -> dict | None:
    """A person's `git add f && git commit -m x` through pre-commit, with kitty-ops'
    hooks and with them skipped (`SKIP=`); None without pre-commit."""
    precommit = BIN / "pre-commit"
    if not precommit.exists():
        return None
    stages = ["--hook-type", "pre-commit", "--hook-type", "prepare-commit-msg"]  # what `init --write` installs
    install = [str(precommit), "install", *stages]  # (and pre-push, which a commit does not run)
    subprocess.run(install, cwd=root, check=True, capture_output=True)
    skip_env = {**os.environ, "SKIP": ",".join(KITTY_HOOKS)}
    hooked, skipped = [], []
    try:
        for n in range(rounds + 1):
            hooked.append(timed(PERSON_COMMIT.format(n=f"h{n}"), root))
            skipped.append(timed(PERSON_COMMIT.format(n=f"s{n}"), root, env=skip_env))
    finally:
        subprocess.run([str(precommit), "uninstall", *stages],
                       cwd=root, capture_output=True)
    return {"hooks": spread(hooked[1:]), "skipped": spread(skipped[1:])}


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    git_version = subprocess.run(["git", "--version"], capture_output=True, text=True).stdout.strip()
    return (
        f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, "
        f"Python {platform.python_version()}, {git_version}"
    )


def load() -> str:
    try:
        return " / ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def cell(values: dict) -> str:
    """`median (min-max)` in ms."""
    return f"{values['median']:.1f} ({values['min']:.1f}-{values['max']:.1f})"


def report(results: dict, sizes: list[int]) -> str:
    hook, listing, doctor = results["hook"], results["list"], results["doctor"]
    lines = [
        f"Machine: {machine()}",
        f"Load average (1 / 5 / 15 min): {results['load_before']} before, {results['load_after']} after",
        f"Rounds: {results['rounds']} ({results['rounds'] * HOOK_ROUNDS_FACTOR} for the hook); "
        "whole-process runs; each cell is median (min-max) ms",
        f"Repositories: N committed, completed records and N/{OPEN_FRACTION} open (untracked) Ops",
        "",
        f"`python -c pass`: {cell(hook['python'])}",
        "",
    ]
    spec = any(name.startswith("spec-kitty") for name in doctor)
    header = "| records | kitty-ops-orphans | list --limit 20 | doctor ops |"
    rule = "|---:|---:|---:|---:|"
    if spec:
        header += " spec-kitty doctor ops |"
        rule += "---:|"
    lines += [header + " doctor peak RSS MiB (Python / with git) |", rule + "---:|"]
    for size in sizes:
        key = str(size)
        row = f"| {size:,} | {cell(hook[key])} | {cell(listing[key])} | {cell(doctor[key])} |"
        if spec:
            row += f" {cell(doctor[f'spec-kitty {size}'])} |"
        row += f" {doctor[key]['python_rss_kib'] / 1024:.1f} / {doctor[key]['max_rss_kib'] / 1024:.1f} |"
        lines.append(row)
    person_git = "`git add f && git commit -q -m x`"
    lines += ["", f"| records | `kitty-ops complete` (with Op commit) | {person_git} | ratio of medians |",
              "|---:|---:|---:|---:|"]
    for size, values in results["complete"].items():
        lines.append(f"| {size:,} | {cell(values['complete'])} | {cell(values['git'])} | "
                     f"{values['complete']['median'] / values['git']['median']:.2f} |")
    lines += ["", f"| records | `kitty_ops.complete()` in one process | {person_git} | ratio of medians |",
              "|---:|---:|---:|---:|"]
    for size, values in results["in_process"].items():
        lines.append(f"| {size:,} | {cell(values['complete'])} | {cell(values['git'])} | "
                     f"{values['complete']['median'] / values['git']['median']:.2f} |")
    person = results["person"]
    if person:
        lines += ["", "| records | `git add f && git commit -q -m x` through pre-commit with kitty-ops' hooks | "
                  "the same with `SKIP=" + ",".join(KITTY_HOOKS) + "` | ratio of medians |", "|---:|---:|---:|---:|"]
        for size, values in person.items():
            lines.append(f"| {size:,} | {cell(values['hooks'])} | {cell(values['skipped'])} | "
                         f"{values['hooks']['median'] / values['skipped']['median']:.2f} |")
    lines += ["", "Targets (ratios of medians):"]
    for name, value, target in targets(results):
        lines.append(f"- {name}: {value:.2f} (target <= {target:g}) {'met' if value <= target else 'MISSED'}")
    return "\n".join(lines) + "\n"


def targets(results: dict) -> list[tuple[str, float, float]]:
    hook, doctor, listing = results["hook"], results["doctor"], results["list"]

    def ratio(a: dict, b: dict) -> float:
        return a["median"] / b["median"]

    checks = []
    if "0" in hook:
        checks.append(("hook at 0 / python -c pass", ratio(hook["0"], hook["python"]), 3.0))
        for size, target in (("10000", 1.25), ("100000", 2.0)):
            if size in hook:
                checks.append((f"hook at {int(size):,} / hook at 0", ratio(hook[size], hook["0"]), target))
    if "100" in listing and "10000" in listing:
        checks.append(("list at 10,000 / list at 100", ratio(listing["10000"], listing["100"]), 1.5))
    if "1000" in doctor and "100000" in doctor:
        checks.append(("doctor at 100,000 / doctor at 1,000", ratio(doctor["100000"], doctor["1000"]), 4.0))
    if "spec-kitty 100000" in doctor:
        spec_ratio = ratio(doctor["100000"], doctor["spec-kitty 100000"])
        checks.append(("doctor / spec-kitty doctor at 100,000", spec_ratio, 0.1))
    for size, target in ((0, 3.0), (10000, 1.5), (100000, 1.0)):
        if size in results["complete"]:
            values = results["complete"][size]
            checks.append((f"complete / git commit at {size:,}", ratio(values["complete"], values["git"]), target))
    if 0 in results["in_process"]:
        values = results["in_process"][0]
        checks.append(("kitty_ops.complete() / git commit at 0", ratio(values["complete"], values["git"]), 1.5))
    for size, values in (results["person"] or {}).items():
        person_ratio = ratio(values["hooks"], values["skipped"])
        checks.append((f"person's commit with hooks / SKIP at {size:,}", person_ratio, 1.2))
    return checks


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,100,1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--complete-sizes", default="0,10000,100000", help="Sizes at which to time commits.")
    parser.add_argument("--spec-kitty", metavar="PATH", help="Also time `PATH doctor ops` (spec-kitty-cli).")
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    complete_sizes = [size for size in map(int, args.complete_sizes.split(",")) if size in sizes]
    workdir = Path(tempfile.mkdtemp(prefix="kitty-ops-bench-"))
    results: dict = {"rounds": args.rounds, "load_before": load()}
    try:
        print(f"building repositories in {workdir} ...", file=sys.stderr)
        repos = {size: build_repo(workdir, size) for size in sizes}
        settle(repos)
        print("timing ...", file=sys.stderr)
        results["hook"] = bench_hook(repos, args.rounds)
        results["list"] = bench_list(repos, args.rounds)
        results["doctor"] = bench_doctor(repos, args.rounds, args.spec_kitty)
        results["complete"] = {size: bench_complete(repos[size], args.rounds) for size in complete_sizes}
        results["in_process"] = {size: bench_in_process(repos[size], args.rounds) for size in complete_sizes}
        results["person"] = {size: bench_person_commit(repos[size], args.rounds) for size in complete_sizes}
        if not all(results["person"].values()):
            results["person"] = None
        results["load_after"] = load()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = report(results, sizes)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
