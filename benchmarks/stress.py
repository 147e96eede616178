"""Agents completing Ops beside a person's git commands: does anything break or get lost?

For each number of agents N, in a fresh repository with the suite's hooks
installed through pre-commit as `init --write` installs them (`repo: local`, the
pre-commit stage; Ops that wait for the person are committed by `kitty_ops.opcommit.waiter`):

- person:  N agent processes complete an Op every `--interval` seconds while a
           person makes `--commits` commits through pre-commit, each with an
           unstaged edit elsewhere (so pre-commit stashes);
- editor:  the same, the person's commit message written by an editor that
           takes `--editor-seconds`;
- stash:   the same agents beside a `git stash push && git stash pop` loop;
- commands: the same agents beside a person's `--commands` git commands in
           turn: `git add` of an edit, `git status` (which refreshes the
           index), `git commit` through pre-commit; it prints how many were
           refused with `index.lock: File exists` (the target: at most 1 in
           100 beside 4 agents completing every 0.5 s).

It prints, per run: person commits attempted / failed (by cause: HEAD moved
under them, index.lock at their start, other), Ops completed / committed /
pending / committed inside a non-Op commit, lifecycle lines expected /
present, records deleted, leftover lock and temporary files, `git fsck`, and
whether every Op is committed once `kitty-ops commit --pending` has run.

    python benchmarks/stress.py                 # N = 4, 16, 64
    python benchmarks/stress.py --agents 4 --commits 5
    STRESS_DEBUG=1 python benchmarks/stress.py --agents 4 --scenario commands   # each refusal on stderr
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gitrun import git

BIN = Path(sys.executable).parent
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Stress", "GIT_AUTHOR_EMAIL": "stress@example.invalid",
    "GIT_COMMITTER_NAME": "Stress", "GIT_COMMITTER_EMAIL": "stress@example.invalid",
}

AGENT = """
import json, os, sys, time
from kitty_ops.lifecycle.executor import complete_invocation, start_invocation
repo, interval, stop, out = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
with open(out, "a") as log:
    while not os.path.exists(stop):
        started = start_invocation(repo, "agent", "work", mission_id="M1")
        done = complete_invocation(repo, started["invocation_id"])
        entry = {"id": started["invocation_id"], "commit": done.commit, "pending": done.pending_reason}
        log.write(json.dumps(entry) + "\\n")
        log.flush()
        time.sleep(interval)
"""

STASH_LOOP = """
import os, subprocess, sys
repo, stop = sys.argv[1], sys.argv[2]
rounds = 0
while not os.path.exists(stop):
    with open(os.path.join(repo, "README.md"), "a") as handle:
        handle.write("edit\\n")
    subprocess.run(["git", "stash", "push", "-q"], cwd=repo, capture_output=True)
    subprocess.run(["git", "stash", "pop", "-q"], cwd=repo, capture_output=True)
    rounds += 1
print(rounds)
"""


def make_repo(root: Path) -> Path:
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("hello\n")
    hooks = "".join(
        f"  - id: {name}\n    name: {name}\n    entry: {BIN / name}\n    language: system\n"
        f"    pass_filenames: false\n    always_run: true\n    stages: [{stage}]\n"
        for name, stage in (("kitty-ops-orphans", "pre-commit"), ("kitty-ops-link", "prepare-commit-msg"))
    )
    (repo / ".pre-commit-config.yaml").write_text("repos:\n- repo: local\n  hooks:\n" + hooks)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "initial", "--no-verify")
    subprocess.run([sys.executable, "-m", "pre_commit", "install", "-t", "pre-commit", "-t", "prepare-commit-msg"],
                   cwd=repo, check=True, capture_output=True)
    return repo


def cause(stderr: str) -> str:
    if "cannot lock ref" in stderr or "but expected" in stderr:
        return "head_moved"
    if "index.lock" in stderr:
        return "index_lock"
    return "other"


def person(repo: Path, commits: int, editor_seconds: float | None) -> dict:
    counts = {"attempted": 0, "head_moved": 0, "index_lock": 0, "other": 0, "add_lock_retries": 0}
    env = {**os.environ}
    if editor_seconds:
        env["GIT_EDITOR"] = f"sh -c 'sleep {editor_seconds}; echo person commit > \"$1\"' --"
    for number in range(commits):
        (repo / "work.txt").write_text(f"change {number}\n")
        (repo / "README.md").write_text(f"hello\nunstaged {number}\n")
        while subprocess.run(["git", "add", "work.txt"], cwd=repo, capture_output=True).returncode:
            counts["add_lock_retries"] += 1
            time.sleep(0.01)
        args = ["git", "commit"] + ([] if editor_seconds else ["-m", f"person {number}"])
        result = subprocess.run(args, cwd=repo, capture_output=True, text=True, env=env)
        counts["attempted"] += 1
        if result.returncode:
            counts[cause(result.stderr)] += 1
            if cause(result.stderr) == "other":
                print(f"    other failure: {result.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        time.sleep(0.05)
    return counts


def commands(repo: Path, count: int) -> dict:
    """A person's `git add`, `git status` and `git commit` in turn, none retried."""
    by_command = {name: {"run": 0, "index_lock": 0} for name in ("add", "status", "commit")}
    previous = ""
    for number in range(count):
        name = ("add", "status", "commit")[number % 3]
        if name == "add":
            (repo / "work.txt").write_text(f"change {number}\n")
            args = ["git", "add", "work.txt"]
        elif name == "status":
            (repo / "README.md").write_text(f"hello\nunstaged {number}\n")  # status has a file to refresh
            args = ["git", "status", "--porcelain"]
        else:
            args = ["git", "commit", "-q", "-m", f"person {number}"]
        result = subprocess.run(args, cwd=repo, capture_output=True, text=True)
        by_command[name]["run"] += 1
        if "index.lock" in result.stderr:
            by_command[name]["index_lock"] += 1
            if os.environ.get("STRESS_DEBUG"):
                print(f"refused {name} after {previous}: {result.stderr.strip()[-300:]}", file=sys.stderr)
        previous = name
    refused = sum(counts["index_lock"] for counts in by_command.values())
    return {"commands": count, "refused_index_lock": refused, "refusal_rate": round(refused / count, 4),
            "by_command": by_command}


def committed_ids(repo: Path) -> list[str]:
    raw = git(repo, "log", "--format=%(trailers:key=Op-Id,valueonly)", "--grep=^op(")
    return [line.strip() for line in raw.splitlines() if line.strip()]


def records_in_non_op_commits(repo: Path) -> int:
    count = 0
    for sha in git(repo, "log", "--format=%H", "--invert-grep", "--grep=^op(").split():
        names = git(repo, "show", "--name-only", "--format=", sha).split()
        count += sum(1 for name in names if name.startswith("kitty-ops/01"))
    return count


def run(agents: int, scenario: str, args: argparse.Namespace) -> dict:
    root = Path(tempfile.mkdtemp(prefix="kitty-ops-stress-"))
    try:
        repo = make_repo(root)
        stop, out = root / "stop", root / "ops.jsonl"
        workers = [subprocess.Popen([sys.executable, "-c", AGENT, str(repo), str(args.interval), str(stop), str(out)],
                                    stderr=subprocess.DEVNULL)
                   for _ in range(agents)]
        time.sleep(1.0)  # the agents are under way
        person_counts, stash_rounds = {}, 0
        if scenario == "stash":
            loop = subprocess.Popen(
                [sys.executable, "-c", STASH_LOOP, str(repo), str(stop)], stdout=subprocess.PIPE, text=True
            )
            time.sleep(args.stash_seconds)
            stop.touch()
            stash_rounds = int(loop.communicate(timeout=120)[0] or 0)
        elif scenario == "commands":
            person_counts = commands(repo, args.commands)
            stop.touch()
        else:
            person_counts = person(repo, args.commits, args.editor_seconds if scenario == "editor" else None)
            stop.touch()
        for worker in workers:
            worker.wait(timeout=300)
        time.sleep(0.5)
        completions = [json.loads(line) for line in out.read_text().splitlines()]
        ids = {entry["id"] for entry in completions}
        before = set(committed_ids(repo))
        inside = records_in_non_op_commits(repo)
        git_dir = repo / ".git"
        leftovers = sorted(
            name for name in os.listdir(git_dir) if name.startswith("kitty-ops-index.") or name == "index.lock"
        )
        subprocess.run([str(BIN / "kitty-ops"), "commit", "--pending"], cwd=repo, capture_output=True)
        after = set(committed_ids(repo))
        working = {path.name[:-6] for path in (repo / "kitty-ops").glob("01*.jsonl")}
        in_head = {
            line.rsplit("/", 1)[-1][:-6]
            for line in git(repo, "ls-tree", "--name-only", "HEAD", "kitty-ops/").split()
            if "/01" in line
        }
        lifecycle = git(repo, "show", "HEAD:kitty-ops/lifecycle.jsonl", check=False).splitlines()
        fsck = subprocess.run(
            ["git", "fsck", "--no-progress", "--no-dangling"], cwd=repo, capture_output=True, text=True
        )
        return {
            "agents": agents, "scenario": scenario, **person_counts, "stash_rounds": stash_rounds,
            "ops_completed": len(ids), "ops_committed": len(ids & before), "ops_pending": len(ids - before),
            "records_in_non_op_commits": inside,
            "lifecycle_expected": 2 * len(ids), "lifecycle_present": len(set(lifecycle)),
            "lifecycle_duplicates": len(lifecycle) - len(set(lifecycle)),
            "records_deleted": len(ids - working) + len(ids - in_head),
            "leftover_files": len(leftovers),
            "fsck_clean": fsck.returncode == 0 and not fsck.stdout.strip(),
            "all_committed_after_pending": ids <= after,
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--agents", type=int, action="append", help="agents per run (repeatable; default 4, 16, 64)")
    parser.add_argument("--scenario", action="append", choices=["person", "editor", "stash", "commands"])
    parser.add_argument("--commits", type=int, default=15, help="person commits per run")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between an agent's Ops")
    parser.add_argument("--commands", type=int, default=300, help="person git commands in the commands scenario")
    parser.add_argument("--editor-seconds", type=float, default=2.0)
    parser.add_argument("--stash-seconds", type=float, default=15.0)
    args = parser.parse_args()
    os.environ.update(GIT_ENV)
    os.environ.setdefault("GIT_CONFIG_GLOBAL", os.devnull)
    for agents in args.agents or [4, 16, 64]:
        for scenario in args.scenario or ["person", "editor", "stash", "commands"]:
            started = time.monotonic()
            result = run(agents, scenario, args)
            result["seconds"] = round(time.monotonic() - started, 1)
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
