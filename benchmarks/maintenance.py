"""Agents completing Ops in linked worktrees while git's maintenance runs: is anything lost?

In a fresh repository (its own HOME and global git config, no system config)
with a first commit and `--worktrees` linked worktrees on slashed branches
(`agent/one`, `agent/two`, ...: refs that `gc` packs into `packed-refs`),
`--agents` agent processes per worktree each do `--ops` Ops through the Python
API (`kitty_ops.start`, a file written under the ignored `scratch/`,
`kitty_ops.complete`), while the main work tree runs, in a loop until the
agents end,

    git gc --prune=now -q
    git maintenance run --task=gc --task=loose-objects --task=pack-refs
        --task=commit-graph --task=incremental-repack

one after the other. Then it counts, over every worktree: Ops started, Ops
whose Op commit is in their branch's history (`Op-Id:` trailer), Ops committed
more than once, Ops pending (`kitty-ops doctor ops --json`, after up to
`--settle` seconds for the waiters), Ops lost (started, with neither a record
file nor a commit), agent errors, `git status --porcelain -- kitty-ops` lines,
and `git fsck --strict`; with the gc and maintenance rounds (and their
failures) and the wall time. Exit status 1 if an Op is lost, pending or not
committed, an agent failed, a worktree shows kitty-ops changes, or fsck is not
clean.

`--prune` sets gc's `--prune` and `gc.pruneExpire` (default `now`, as the
issue asks; git's own default is `2.weeks.ago`). git-gc(1) warns that
`--prune=now` "increases the risk of corruption if another process is writing
to the repository concurrently": `--plain-git` runs the same agents with
`git add` and `git commit` instead of kitty-ops, as the control.

    python benchmarks/maintenance.py                       # 2 worktrees x 2 agents x 20 Ops
    python benchmarks/maintenance.py --rounds 3 --prune 2.weeks.ago
    python benchmarks/maintenance.py --plain-git           # the control: git's own commits
    python benchmarks/maintenance.py --ops 200 --keep      # keep the repository to look at it
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import gitrun

BIN = Path(sys.executable).parent
NAMES = ("one", "two", "three", "four", "five", "six", "seven", "eight")
GIT_TIMEOUT = 120  # seconds, for any one git command of this script
MAINTENANCE_TASKS = ["maintenance", "run", "--task=gc", "--task=loose-objects", "--task=pack-refs",
                     "--task=commit-graph", "--task=incremental-repack"]
OP_ID = re.compile(r"^Op-Id: *([0-9A-HJKMNP-TV-Z]{26}) *$", re.MULTILINE)

AGENT = """
import json, os, sys, time
import kitty_ops
worktree, name, ops, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(out, "a") as log:
    def say(**entry):
        log.write(json.dumps(entry) + "\\n")
        log.flush()
    for number in range(ops):
        try:
            op_id = kitty_ops.start("agent", "work", repo=worktree, request_text=f"{name} op {number}").invocation_id
        except Exception as exc:
            say(event="error", stage="start", agent=name, error=f"{type(exc).__name__}: {exc}")
            continue
        say(event="started", id=op_id, agent=name)
        try:
            path = os.path.join("scratch", name, f"{number}.txt")
            os.makedirs(os.path.join(worktree, "scratch", name), exist_ok=True)
            with open(os.path.join(worktree, path), "w") as handle:
                handle.write(f"{op_id}\\n")
            started = time.monotonic()
            done = kitty_ops.complete(op_id, repo=worktree, artifacts=[path])
            say(event="completed", id=op_id, agent=name, commit=done.commit, pending=done.pending_reason,
                ms=round(1000 * (time.monotonic() - started), 1))
        except Exception as exc:
            say(event="error", stage="complete", id=op_id, agent=name, error=f"{type(exc).__name__}: {exc}")
"""

# The control (`--plain-git`): the same agents with git's own commands, no kitty-ops. Each
# "Op" is a file kitty-ops/<id>.jsonl committed by `git add` and `git commit` (retried,
# bounded, while the other agent of the work tree holds index.lock).
AGENT_GIT = """
import json, os, random, subprocess, sys, time
worktree, name, ops, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
with open(out, "a") as log:
    def say(**entry):
        log.write(json.dumps(entry) + "\\n")
        log.flush()
    for number in range(ops):
        op_id = "".join(random.choice(alphabet) for _ in range(26))
        os.makedirs(os.path.join(worktree, "kitty-ops"), exist_ok=True)
        with open(os.path.join(worktree, "kitty-ops", op_id + ".jsonl"), "w") as handle:
            handle.write(json.dumps({"event": "started", "invocation_id": op_id}) + "\\n")
        say(event="started", id=op_id, agent=name)
        started, error = time.monotonic(), None
        for attempt in range(200):
            steps = (["git", "add", "kitty-ops/" + op_id + ".jsonl"],
                     ["git", "commit", "-q", "-m", f"plain {name} {number}\\n\\nOp-Id: {op_id}",
                      "--", "kitty-ops/" + op_id + ".jsonl"])
            results = [subprocess.run(step, cwd=worktree, capture_output=True, text=True, timeout=60)
                       for step in steps]
            if all(result.returncode == 0 for result in results):
                error = None
                break
            error = " / ".join(result.stderr.strip() for result in results if result.returncode)
            if "index.lock" not in error and "cannot lock ref" not in error:
                break
            time.sleep(0.02)
        if error:
            say(event="error", stage="commit", id=op_id, agent=name, error=error)
        else:
            say(event="completed", id=op_id, agent=name, commit=None, pending=None,
                ms=round(1000 * (time.monotonic() - started), 1))
"""


def git(repo: Path, *args: str, check: bool = True) -> str:
    return gitrun.git(repo, *args, check=check, timeout=GIT_TIMEOUT)


def isolate(root: Path) -> None:
    """This process and its children: a HOME and global config of their own, no system config."""
    home = root / "home"
    home.mkdir()
    config = home / ".gitconfig"
    config.write_text("[user]\n\tname = Maintenance\n\temail = maintenance@example.invalid\n"
                      "[init]\n\tdefaultBranch = main\n[gc]\n\tautoDetach = false\n")
    os.environ.update({"HOME": str(home), "GIT_CONFIG_GLOBAL": str(config), "GIT_CONFIG_NOSYSTEM": "1"})
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_CONFIG_PARAMETERS"):
        os.environ.pop(name, None)


def make_repo(root: Path, worktrees: int) -> tuple[Path, list[tuple[str, Path]]]:
    repo = root / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("hello\n")
    (repo / ".gitignore").write_text("scratch/\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "initial")
    linked = []
    for number in range(worktrees):
        branch, path = f"agent/{NAMES[number]}", root / f"wt-{NAMES[number]}"
        git(repo, "worktree", "add", "-q", "-b", branch, str(path))
        linked.append((branch, path))
    git(repo, "pack-refs", "--all")  # the slashed branches start packed
    return repo, linked


class Maintenance(threading.Thread):
    """`git gc --prune=<prune>` and `git maintenance run` in turn until `stop` is set."""

    def __init__(self, repo: Path, stop: threading.Event, prune: str) -> None:
        super().__init__(daemon=True)
        self.repo, self.stop = repo, stop
        # `gc.pruneExpire` too: the gc that `git maintenance run --task=gc` starts prunes the same way.
        self.commands = (("gc", ["gc", f"--prune={prune}", "-q"]),
                         ("maintenance", ["-c", f"gc.pruneExpire={prune}", *MAINTENANCE_TASKS]))
        self.rounds = {name: 0 for name, _ in self.commands}
        self.failures: dict[str, list[str]] = {name: [] for name, _ in self.commands}

    def run(self) -> None:
        while not self.stop.is_set():
            for name, args in self.commands:
                try:
                    result = subprocess.run(["git", *args], cwd=self.repo, capture_output=True, text=True,
                                            timeout=GIT_TIMEOUT)
                    failed = result.returncode != 0
                    detail = f"exit {result.returncode}: {one_line(result.stderr)}"
                except subprocess.TimeoutExpired:
                    failed, detail = True, f"timed out after {GIT_TIMEOUT} s"
                self.rounds[name] += 1
                if failed:
                    self.failures[name].append(detail)
                if self.stop.is_set():
                    break


def one_line(text: str) -> str:
    return " | ".join(line.strip() for line in text.strip().splitlines()[-4:])


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def committed(worktree: Path, branch: str) -> tuple[list[str], str | None]:
    """Op ids of the Op commits in the branch's history, one per commit trailer (as far as
    git can read it), and git's error when it cannot read the whole history."""
    result = subprocess.run(["git", "log", "--format=%B", branch], cwd=worktree, capture_output=True,
                            text=True, timeout=GIT_TIMEOUT)
    error = f"{branch}: {' / '.join(result.stderr.strip().splitlines())}" if result.returncode else None
    return OP_ID.findall(result.stdout), error


def doctor(worktree: Path) -> dict:
    result = subprocess.run([str(BIN / "kitty-ops"), "doctor", "ops", "--json"], cwd=worktree,
                            capture_output=True, text=True, timeout=GIT_TIMEOUT)
    try:
        return json.loads(result.stdout)
    except ValueError:
        return {"error": f"exit {result.returncode}: {result.stderr.strip()[-300:]}"}


def run(args: argparse.Namespace) -> dict:
    root = Path(tempfile.mkdtemp(prefix="kitty-ops-maintenance-"))
    began = time.monotonic()
    deadline = began + args.timeout
    try:
        isolate(root)
        repo, linked = make_repo(root, args.worktrees)
        stop = threading.Event()
        loop = Maintenance(repo, stop, args.prune)
        loop.start()
        agents = []
        for branch, path in linked:
            for number in range(args.agents):
                name = f"{path.name}-{number}"
                log = root / f"{name}.jsonl"
                code = AGENT_GIT if args.plain_git else AGENT
                process = subprocess.Popen([sys.executable, "-c", code, str(path), name, str(args.ops), str(log)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                agents.append((branch, path, log, process))
        killed, agent_stderr = 0, []
        for _, _, _, process in agents:
            try:
                _, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                _, stderr = process.communicate()
                killed += 1
            if process.returncode and stderr.strip():
                agent_stderr.append(stderr.strip().splitlines()[-1])
        agents_seconds = time.monotonic() - began
        stop.set()
        loop.join(timeout=2 * GIT_TIMEOUT)

        entries = {path: [] for _, path in linked}
        for _, path, log, _ in agents:
            entries[path].extend(read_log(log))
        started = {path: {e["id"] for e in found if e["event"] == "started"} for path, found in entries.items()}
        errors = [e for found in entries.values() for e in found if e["event"] == "error"]
        pending_at_completion = sum(1 for found in entries.values() for e in found
                                    if e["event"] == "completed" and e.get("pending"))
        complete_ms = sorted(e["ms"] for found in entries.values() for e in found if e["event"] == "completed")

        # The waiters of Ops left pending commit them once git is free: give them `--settle` seconds.
        settle_until = time.monotonic() + args.settle
        while True:
            reports = {path: doctor(path) for _, path in linked}
            pending = {path: {p["invocation_id"] for p in report.get("pending", [])} & started[path]
                       for path, report in reports.items()}
            if not any(pending.values()) or time.monotonic() >= settle_until:
                break
            time.sleep(0.5)

        counts = {"started": 0, "committed": 0, "committed_twice": 0, "pending": 0, "orphans": 0,
                  "lost": 0, "not_committed": 0, "status_lines": 0}
        missing: list[str] = []
        history_errors: list[str] = []
        for branch, path in linked:
            ids, error = committed(path, branch)
            if error:
                history_errors.append(error)
            in_history = set(ids)
            mine = started[path]
            records = {name[:-6] for name in os.listdir(path / "kitty-ops")} if (path / "kitty-ops").is_dir() else set()
            lost = mine - in_history - records
            counts["started"] += len(mine)
            counts["committed"] += len(mine & in_history)
            counts["committed_twice"] += len(ids) - len(in_history)
            counts["pending"] += len(pending[path])
            counts["orphans"] += len({o["invocation_id"] for o in reports[path].get("orphans", [])} & mine)
            counts["lost"] += len(lost)
            counts["not_committed"] += len(mine - in_history)
            missing += sorted(mine - in_history)
            status = subprocess.run(["git", "status", "--porcelain", "--", "kitty-ops"], cwd=path,
                                    capture_output=True, text=True, timeout=GIT_TIMEOUT)
            counts["status_lines"] += len(status.stdout.splitlines())
            if status.returncode:
                history_errors.append(f"git status in {path.name}: {' / '.join(status.stderr.strip().splitlines())}")
        fsck = subprocess.run(["git", "fsck", "--strict", "--no-progress", "--no-dangling"], cwd=repo,
                              capture_output=True, text=True, timeout=GIT_TIMEOUT)
        fsck_lines = (fsck.stdout + fsck.stderr).strip().splitlines()
        doctor_errors = [r["error"] for r in reports.values() if "error" in r]
        return {
            **counts,
            "expected": len(linked) * args.agents * args.ops,
            "pending_at_completion": pending_at_completion,
            "agent_errors": [f"{e.get('agent')} {e['stage']} {e.get('id', '')}: {one_line(e['error'])}"
                             for e in errors],
            "agents_killed": killed, "agent_stderr": agent_stderr, "doctor_errors": doctor_errors,
            "not_committed_ids": missing[:10], "history_errors": history_errors,
            "fsck_clean": fsck.returncode == 0 and not fsck_lines, "fsck_output": fsck_lines[:20],
            "gc_rounds": loop.rounds["gc"], "maintenance_rounds": loop.rounds["maintenance"],
            "gc_failures": loop.failures["gc"], "maintenance_failures": loop.failures["maintenance"],
            "complete_ms_median": complete_ms[len(complete_ms) // 2] if complete_ms else None,
            "complete_ms_max": complete_ms[-1] if complete_ms else None,
            "agents_seconds": round(agents_seconds, 1),
            "seconds": round(time.monotonic() - began, 1),
            "kept": str(root) if args.keep else None,
        }
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)


def failed(result: dict) -> bool:
    return bool(
        result["lost"] or result["pending"] or result["not_committed"] or result["committed_twice"]
        or result["started"] != result["expected"] or result["agent_errors"] or result["agents_killed"]
        or result["status_lines"] or result["doctor_errors"] or result["history_errors"] or not result["fsck_clean"]
    )


def show(number: int, result: dict, args: argparse.Namespace) -> None:
    print(f"run {number}: {'FAIL' if failed(result) else 'ok'}")
    print(f"  Ops started {result['started']} of {result['expected']}, committed {result['committed']},"
          f" committed twice {result['committed_twice']}, pending {result['pending']}"
          f" (pending when completed {result['pending_at_completion']}), lost {result['lost']},"
          f" orphans {result['orphans']}")
    print(f"  agent errors {len(result['agent_errors'])}, agents killed {result['agents_killed']},"
          f" kitty-ops status lines {result['status_lines']}")
    print(f"  git fsck --strict: {'clean' if result['fsck_clean'] else 'NOT clean'}")
    print(f"  gc rounds {result['gc_rounds']} (failed {len(result['gc_failures'])}),"
          f" maintenance rounds {result['maintenance_rounds']} (failed {len(result['maintenance_failures'])})")
    print(f"  complete() median {result['complete_ms_median']} ms, max {result['complete_ms_max']} ms;"
          f" agents {result['agents_seconds']} s, wall {result['seconds']} s")
    for key in ("agent_errors", "agent_stderr", "doctor_errors", "history_errors", "not_committed_ids", "fsck_output",
                "gc_failures", "maintenance_failures"):
        for line in result[key][:args.details]:
            print(f"  {key}: {line}")
        if len(result[key]) > args.details:
            print(f"  {key}: ... {len(result[key]) - args.details} more")
    if result["kept"]:
        print(f"  kept: {result['kept']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worktrees", type=int, default=2, choices=range(1, len(NAMES) + 1),
                        metavar="N", help="linked worktrees (default 2)")
    parser.add_argument("--agents", type=int, default=2, help="agent processes per worktree (default 2)")
    parser.add_argument("--ops", type=int, default=20, help="Ops per agent (default 20)")
    parser.add_argument("--rounds", type=int, default=1, help="runs, each in a fresh repository (default 1)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds the agents may take per run")
    parser.add_argument("--settle", type=float, default=15.0, help="seconds to wait for pending Ops' waiters")
    parser.add_argument("--plain-git", action="store_true",
                        help="control: the agents commit with `git add` and `git commit`, no kitty-ops")
    parser.add_argument("--prune", default="now",
                        help="gc's --prune and gc.pruneExpire (default now; git's own default: 2.weeks.ago)")
    parser.add_argument("--details", type=int, default=3, help="lines of each kind of failure to print")
    parser.add_argument("--keep", action="store_true", help="keep the temporary repository")
    parser.add_argument("--json", action="store_true", help="print each run as one JSON line as well")
    args = parser.parse_args()
    print(f"{subprocess.run(['git', '--version'], capture_output=True, text=True).stdout.strip()},"
          f" {os.cpu_count()} cores, {args.worktrees} worktrees x {args.agents} agents x {args.ops} Ops"
          f"{' (control: plain git commits)' if args.plain_git else ''}, gc --prune={args.prune}",
          flush=True)
    status = 0
    for number in range(1, args.rounds + 1):
        result = run(args)
        show(number, result, args)
        if args.json:
            print(json.dumps(result))
        sys.stdout.flush()
        status |= failed(result)
    return 1 if status else 0


if __name__ == "__main__":
    raise SystemExit(main())
