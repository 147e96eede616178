"""Ref mode beside branch mode: the Op commit, and `kitty-ops sync` of 1,000 new records.

    python benchmarks/refmode_bench.py [--rounds 9] [--records 1000]

- `kitty-ops complete` (with its Op commit) in a branch-mode and a ref-mode
  repository, alternating, medians of whole-process runs;
- `kitty-ops sync` pushing `--records` new records to a bare remote (first
  sync), then a sync with nothing new, and a clone's sync that fetches them.

It uses the `kitty-ops` installed next to the running Python.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
ENV = {
    **os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
    "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
}


def run(*command: str, cwd: Path) -> str:
    result = subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True)
    if result.returncode:
        raise SystemExit(f"{' '.join(command)}: {result.stderr.strip()}")
    return result.stdout


def timed(*command: str, cwd: Path) -> float:
    started = time.perf_counter()
    run(*command, cwd=cwd)
    return (time.perf_counter() - started) * 1000


def make_repo(path: Path, ref_mode: bool, remote: Path | None = None) -> Path:
    path.mkdir()
    run("git", "init", "-q", "-b", "main", cwd=path)
    (path / "README.md").write_text("bench\n")
    run("git", "add", "README.md", cwd=path)
    run("git", "commit", "-qm", "initial", cwd=path)
    if remote is not None:
        run("git", "remote", "add", "origin", str(remote), cwd=path)
        run("git", "push", "-q", "origin", "main", cwd=path)
    run(str(BIN / "kitty-ops"), "init", *(["--ref"] if ref_mode else []), cwd=path)
    return path


def complete_once(repo: Path) -> float:
    op_id = run(str(BIN / "kitty-ops"), "start", "--profile", "bench", "--action", "work", cwd=repo).strip()
    return timed(str(BIN / "kitty-ops"), "complete", op_id, cwd=repo)


def stats(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--records", type=int, default=1000)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="kitty-ops-refbench-"))
    try:
        branch, ref = make_repo(root / "branch", False), make_repo(root / "ref", True)
        branch_ms, ref_ms = [], []
        for _ in range(args.rounds):
            branch_ms.append(complete_once(branch))
            ref_ms.append(complete_once(ref))
        remote = root / "remote.git"
        run("git", "init", "-q", "--bare", str(remote), cwd=root)
        source = make_repo(root / "source", True, remote)
        script = (
            "import sys\nfrom kitty_ops.lifecycle.executor import complete_invocation, start_invocation\n"
            "for _ in range(int(sys.argv[2])):\n"
            "    op = start_invocation(sys.argv[1], 'bench', 'work', owner_pid=0)\n"
            "    complete_invocation(sys.argv[1], op['invocation_id'], commit=False)\n"
            "from kitty_ops.opcommit.commit import commit_ops\ncommit_ops(sys.argv[1], pending=True)\n"
        )
        run(sys.executable, "-c", script, str(source), str(args.records), cwd=source)
        first = timed(str(BIN / "kitty-ops"), "sync", cwd=source)
        again = timed(str(BIN / "kitty-ops"), "sync", cwd=source)
        other = root / "other"
        run("git", "clone", "-q", str(remote), str(other), cwd=root)
        run(str(BIN / "kitty-ops"), "init", "--ref", cwd=other)
        fetched = timed(str(BIN / "kitty-ops"), "sync", cwd=other)
        listed = len(run(str(BIN / "kitty-ops"), "list", "--limit", str(args.records + 10), "--json", cwd=other)
                     .split('"invocation_id"')) - 1
        print(f"machine: {os.uname().machine}, {os.cpu_count()} cores, {run('git', '--version', cwd=root).strip()}")
        print(f"rounds: {args.rounds}; figures are min / median / max ms")
        print(f"complete, branch mode: {stats(branch_ms)}")
        print(f"complete, ref mode:    {stats(ref_ms)}")
        print(f"ref / branch (medians): {statistics.median(ref_ms) / statistics.median(branch_ms):.2f}")
        print(f"sync pushing {args.records} new records: {first:.0f} ms; nothing new: {again:.0f} ms;"
              f" a clone fetching them: {fetched:.0f} ms ({listed} listed there)")
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
