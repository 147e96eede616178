"""Benchmark kitty-ops against the floor it cannot beat, in one run.

    python benchmarks/bench.py [--sizes 0,100,10000,100000] [--rounds 7] [--markdown BENCHMARKS.md]

Builds throw-away repositories with N committed Op records (plus 5 untracked
open Ops each), then times whole processes, alternating the commands it
compares within each round, and prints medians:

- `kitty-ops-orphans` at each size, and its ratio to `python -c pass`;
- `kitty-ops complete` (with its Op commit) against the plain git steps any
  Op commit needs (write a file, `git add`, `git commit --no-verify -- file`);
- `kitty-ops list --limit 20` at each size;
- `kitty-ops doctor ops` at each size, as records per second;
- the peak memory (max RSS) of doctor at each size.

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
from pathlib import Path

BIN = Path(sys.executable).parent
# Byte-compiled modules are part of an installed tool's start-up; let them be written.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
OPEN_OPS = 5
HOOK_ROUNDS_FACTOR = 5  # the hook is quick and its ratios are tight: more samples
TARGETS = {
    "hook_10k_over_0": 1.25,
    "hook_over_python": 3.0,
    "complete_over_git": 2.0,
    "list_10k_over_100": 1.5,
    "doctor_records_per_second": 20_000,
}
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def ulid_at(n: int, base_ms: int) -> str:
    value = (base_ms + n) << 80 | n
    return "".join(CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def record_text(op_id: str, n: int) -> str:
    started = {
        "event": "started", "invocation_id": op_id, "profile_id": f"profile-{n % 7}",
        "action": ("implement", "review", "plan")[n % 3], "request_text": f"benchmark op {n}",
        "actor": "bench", "started_at": "2026-01-01T00:00:00+00:00",
    }
    completed = {
        "event": "completed", "invocation_id": op_id, "completed_at": "2026-01-01T00:05:00+00:00",
        "outcome": "done", "closed_by": "agent",
    }
    return json.dumps(started) + "\n" + json.dumps(completed) + "\n"


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, stdout=subprocess.DEVNULL)


def build_repo(parent: Path, size: int) -> Path:
    root = parent / f"repo-{size}"
    (root / "kitty-ops").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.name", "Bench")
    git(root, "config", "user.email", "bench@example.com")
    git(root, "config", "commit.gpgsign", "false")
    (root / "README.md").write_text("bench\n")
    base_ms = int(time.time() * 1000) - 10 * 86_400_000
    for n in range(size):
        op_id = ulid_at(n, base_ms)
        (root / "kitty-ops" / f"{op_id}.jsonl").write_text(record_text(op_id, n))
    git(root, "add", "-A")
    git(root, "commit", "-qm", f"{size} records")
    subprocess.run([sys.executable, "-c", "from kitty_ops.index import rebuild; rebuild('.')"], cwd=root, check=True)
    for _ in range(OPEN_OPS):
        run_kitty(root, "start", "--profile", "bench", "--action", "open")
    return root


def run_kitty(root: Path, *args: str) -> str:
    return subprocess.run(
        [str(BIN / "kitty-ops"), *args], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_hook(repos: dict[int, Path], rounds: int) -> dict:
    samples: dict[str, list[float]] = {"python": [], **{str(size): [] for size in repos}}
    hook = [str(BIN / "kitty-ops-orphans")]
    for root in repos.values():
        timed(hook, root)  # warm-up: byte-compile, fill the page cache
    for _ in range(rounds * HOOK_ROUNDS_FACTOR):
        samples["python"].append(timed([sys.executable, "-c", "pass"], Path.cwd()))
        for size, root in repos.items():
            samples[str(size)].append(timed(hook, root))
    return {name: median_ms(values) for name, values in samples.items()}


def bench_complete(root: Path, rounds: int) -> dict:
    ops, plain = [], []
    for n in range(rounds):
        op_id = run_kitty(root, "start", "--profile", "bench", "--action", "complete")
        ops.append(timed([str(BIN / "kitty-ops"), "complete", op_id], root))
        name = f"kitty-ops/plain-{n}-{time.time_ns()}.txt"
        script = f"echo {n} > {name} && git add {name} && git commit -q --no-verify -m plain -- {name}"
        plain.append(timed(["sh", "-c", script], root))
    return {"complete": median_ms(ops), "git": median_ms(plain)}


def bench_list(repos: dict[int, Path], rounds: int) -> dict:
    samples: dict[int, list[float]] = {size: [] for size in repos}
    for root in repos.values():
        timed([str(BIN / "kitty-ops"), "list", "--limit", "20"], root)  # warm-up
    for _ in range(rounds):
        for size, root in repos.items():
            samples[size].append(timed([str(BIN / "kitty-ops"), "list", "--limit", "20"], root))
    return {size: median_ms(values) for size, values in samples.items()}


def bench_doctor(repos: dict[int, Path], rounds: int) -> dict:
    samples: dict[int, list[float]] = {size: [] for size in repos}
    for root in repos.values():
        timed([str(BIN / "kitty-ops"), "doctor", "ops"], root)  # warm-up
    for _ in range(rounds):
        for size, root in repos.items():
            samples[size].append(timed([str(BIN / "kitty-ops"), "doctor", "ops"], root))
    doctor = [str(BIN / "kitty-ops"), "doctor", "ops"]
    return {
        size: {
            "ms": median_ms(values),
            "records_per_second": (size + OPEN_OPS) / statistics.median(values),
            "max_rss_kib": max_rss_kib(doctor, repos[size]),
            "python_rss_kib": python_rss_kib(repos[size]),
        }
        for size, values in samples.items()
    }


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


def report(results: dict, sizes: list[int]) -> str:
    hook, complete, listing, doctor = (results[k] for k in ("hook", "complete", "list", "doctor"))
    lines = [
        f"Machine: {machine()}",
        f"Rounds: {results['rounds']} ({results['rounds'] * HOOK_ROUNDS_FACTOR} for the hook); medians of whole-process runs",
        "",
    ]
    lines += ["| records | hook ms | hook / python -c pass | list --limit 20 ms | doctor ms | doctor records/s | doctor peak RSS MiB (Python / with git) |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for size in sizes:
        lines.append(
            f"| {size:,} | {hook[str(size)]:.1f} | {hook[str(size)] / hook['python']:.2f} | {listing[size]:.1f} | "
            f"{doctor[size]['ms']:.1f} | {doctor[size]['records_per_second']:,.0f} | "
            f"{doctor[size]['python_rss_kib'] / 1024:.1f} / {doctor[size]['max_rss_kib'] / 1024:.1f} |"
        )
    lines += ["", f"`python -c pass`: {hook['python']:.1f} ms", ""]
    lines += ["| records | kitty-ops complete (with Op commit) ms | plain write + git add + git commit ms | ratio |", "|---:|---:|---:|---:|"]
    for size, values in complete.items():
        lines.append(f"| {size:,} | {values['complete']:.1f} | {values['git']:.1f} | {values['complete'] / values['git']:.2f} |")
    lines += ["", "Targets:"]
    checks = []
    if "0" in hook and "10000" in hook:
        checks.append(("hook at 10,000 / hook at 0", hook["10000"] / hook["0"], TARGETS["hook_10k_over_0"], "<="))
    if "0" in hook:
        checks.append(("hook at 0 / python -c pass", hook["0"] / hook["python"], TARGETS["hook_over_python"], "<="))
    for size, values in complete.items():
        checks.append((f"complete / plain git at {size:,}", values["complete"] / values["git"], TARGETS["complete_over_git"], "<="))
    if 100 in listing and 10000 in listing:
        checks.append(("list at 10,000 / list at 100", listing[10000] / listing[100], TARGETS["list_10k_over_100"], "<="))
    biggest = max(sizes)
    checks.append((f"doctor records/s at {biggest:,}", doctor[biggest]["records_per_second"], TARGETS["doctor_records_per_second"], ">="))
    for name, value, target, sense in checks:
        met = value <= target if sense == "<=" else value >= target
        lines.append(f"- {name}: {value:,.2f} (target {sense} {target:,}) {'met' if met else 'MISSED'}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="0,100,10000,100000")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--complete-sizes", default="0,100000", help="Sizes at which to time complete.")
    parser.add_argument("--markdown", help="Also write the report to this file.")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",")]
    complete_sizes = [size for size in map(int, args.complete_sizes.split(",")) if size in sizes]
    workdir = Path(tempfile.mkdtemp(prefix="kitty-ops-bench-"))
    try:
        print(f"building repositories in {workdir} ...", file=sys.stderr)
        repos = {size: build_repo(workdir, size) for size in sizes}
        print("timing ...", file=sys.stderr)
        results = {
            "rounds": args.rounds,
            "hook": bench_hook(repos, args.rounds),
            "list": bench_list(repos, args.rounds),
            "doctor": bench_doctor(repos, args.rounds),
            "complete": {size: bench_complete(repos[size], args.rounds) for size in complete_sizes},
        }
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    text = report(results, sizes)
    print(text)
    if args.markdown:
        Path(args.markdown).write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
