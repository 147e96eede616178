"""The orphans hook beside many agents at work: 100 running Ops in one clone.

Three clones with the same 1,000 committed records: one with no Op in
progress, one with 100 running Ops of one agent (one owner process), one with
100 running Ops of 100 agents (100 owner processes). It times the orphans
hook in each, in turn, and prints the medians and the ratios to the clone
with none (issue 23's target: <= 1.25x), the Ops started 2.5 s before, then
the per-turn Stop of
`kitty-ops agents hook claude-code --per turn` (target: <= 50 ms).

    python benchmarks/agents_bench.py [--rounds 15] [--running 100]

It uses the `kitty-ops` installed next to the running Python.
"""
from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gitrun import git

from kitty_ops.lifecycle.executor import complete_invocation, start_invocation

BIN = Path(sys.executable).parent
COMMITTED = 1000


def make_clone(parent: Path, name: str) -> Path:
    root = parent / name
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for key, value in (("user.name", "Bench"), ("user.email", "bench@example.com"), ("commit.gpgsign", "false")):
        git(root, "config", key, value)
    (root / "README.md").write_text("bench\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "initial")
    for _ in range(COMMITTED):
        op_id = start_invocation(root, "bench", "work", owner_pid=0)["invocation_id"]
        complete_invocation(root, op_id, commit=False)
    subprocess.run([str(BIN / "kitty-ops"), "commit", "--pending"], cwd=root, check=True, capture_output=True)
    return root


def timed(command: list[str], cwd: Path, stdin: str | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, input=stdin, capture_output=True, text=True)
    return time.perf_counter() - start


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def bench_hook(clones: dict[str, Path], rounds: int) -> dict[str, float]:
    hook = [str(BIN / "kitty-ops-orphans")]
    for root in clones.values():
        timed(hook, root)  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in clones}
    for _ in range(rounds):
        for name, root in clones.items():
            samples[name].append(timed(hook, root))
    return {name: median_ms(values) for name, values in samples.items()}


def bench_per_turn_stop(root: Path, rounds: int) -> float:
    """A prompt (opens the turn's Op), then its Stop (completes and commits it): the Stop timed."""
    hook = [str(BIN / "kitty-ops"), "agents", "hook", "claude-code", "--per", "turn"]
    samples = []
    for turn in range(rounds + 1):
        event = {"session_id": "bench", "cwd": str(root), "transcript_path": "", "permission_mode": "default"}
        prompt = {**event, "hook_event_name": "UserPromptSubmit", "prompt": f"turn {turn}"}
        subprocess.run(hook, cwd=root, input=json.dumps(prompt), capture_output=True, text=True, check=True)
        samples.append(timed(hook, root, json.dumps({**event, "hook_event_name": "Stop", "stop_hook_active": False})))
    return median_ms(samples[1:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--running", type=int, default=100, help="running Ops in the busy clones")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="kitty-ops-agents-bench-"))
    owners: list[subprocess.Popen] = []
    try:
        print(f"building clones in {workdir} ...", file=sys.stderr)
        clones = {name: make_clone(workdir, name) for name in ("none", "one owner", "many owners")}
        owners = [subprocess.Popen(["sleep", "3600"]) for _ in range(args.running)]
        for number in range(args.running):
            start_invocation(clones["one owner"], "agent", "work", owner_pid=owners[0].pid)
            start_invocation(clones["many owners"], "agent", "work", owner_pid=owners[number].pid)
        # As agents at work leave them: started seconds ago or more. The hook's cache
        # keeps only what is older than its margin (2 s: coarser than any file
        # system's clock), so Ops younger than that are read again on each run.
        time.sleep(2.5)
        hook = bench_hook(clones, args.rounds)
        stop = bench_per_turn_stop(make_clone(workdir, "per turn"), args.rounds)
    finally:
        for process in owners:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"orphans hook, {COMMITTED:,} committed records, median of {args.rounds} (ms):")
    for name, value in hook.items():
        running = "no Op" if name == "none" else f"{args.running} running Ops, {name}"
        ratio = value / hook["none"]
        verdict = "" if name == "none" else f"  {ratio:.2f}x (target <= 1.25) {'met' if ratio <= 1.25 else 'MISSED'}"
        print(f"  {running:34} {value:7.1f}{verdict}")
    print(f"per-turn Stop (claude-code, --per turn): {stop:.1f} ms (target <= 50) {'met' if stop <= 50 else 'MISSED'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
