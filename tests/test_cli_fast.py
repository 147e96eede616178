"""`kitty-ops start` and `complete` take a path without click; it must say and do what click's would."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from kitty_ops.cli.fast import run_fast

from .conftest import git

WITHOUT_CLICK = """
import sys
from kitty_ops.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    print("click imported" if "click" in sys.modules else "click not imported", file=sys.stderr)
    raise
"""


def kitty_ops(repo, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", WITHOUT_CLICK, *args], cwd=repo, capture_output=True, text=True)


def test_start_and_complete_run_without_importing_click(committed_repo):
    started = kitty_ops(committed_repo, "start", "--profile", "implementer", "--action=implement", "--mission-id", "M1")
    assert started.returncode == 0 and started.stderr.strip() == "click not imported"
    op_id = started.stdout.strip()
    done = kitty_ops(committed_repo, "complete", op_id[:12].lower(), "--artifact", "a.py", "--artifact=b.py", "--json")
    assert done.returncode == 0 and done.stderr.strip() == "click not imported", done.stderr
    result = json.loads(done.stdout)
    assert result["invocation_id"] == op_id and result["commit"] == git(committed_repo, "rev-parse", "HEAD")
    record = (committed_repo / "kitty-ops" / f"{op_id}.jsonl").read_text()
    assert '"ref": "a.py"' in record and '"ref": "b.py"' in record


@pytest.mark.parametrize("args", [
    ["start", "--profile", "p"],  # a required option missing
    ["start", "--help"],
    ["start", "--profile", "p", "--action", "a", "--bogus"],
    ["start", "--profile", "p", "--action", "a", "--owner-pid", "x"],
    ["complete"],
    ["complete", "01M8SW8SRJ7REBH024V4RACZQ4", "--outcome", "bogus"],
    ["complete", "01M8SW8SRJ7REBH024V4RACZQ4", "--evidence"],
    ["list"],
])
def test_anything_unusual_goes_to_click(args):
    assert run_fast(args) is None


def test_errors_are_the_same_one_line_with_either_path(committed_repo):
    fast = kitty_ops(committed_repo, "start", "--profile", "a b", "--action", "x")
    assert fast.returncode == 2 and "click not imported" in fast.stderr
    assert fast.stderr.splitlines()[0] == (
        "kitty-ops: error: profile_id: must be one word of printable ASCII:"
        " no spaces, newlines, control characters or ()[]"
    )
    unknown = kitty_ops(committed_repo, "complete", "01M8SW8SRJ7REBH024V4RACZQ4")
    assert unknown.returncode == 1
    assert unknown.stderr.startswith("kitty-ops: error: 01M8SW8SRJ7REBH024V4RACZQ4: no such Op")
    slow = kitty_ops(committed_repo, "start", "--profile", "p")
    assert slow.returncode == 2 and "Missing option '--action'" in slow.stderr and "click imported" in slow.stderr


HEAVY = {"re", "json", "pathlib", "enum", "click", "pydantic", "subprocess", "datetime"}


def _imported(repo, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run the installed `kitty-ops` script and name every module it imported
    (after start-up's `site`, which an editable install's finder makes heavier)."""
    from pathlib import Path

    script = Path(sys.executable).parent / "kitty-ops"
    result = subprocess.run([sys.executable, "-X", "importtime", str(script), *args], cwd=repo, capture_output=True,
                            text=True)
    names = [line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    return result, set(names[names.index("site") + 1:])


def test_the_installed_start_and_complete_import_nothing_heavy(committed_repo):
    """Every Op pays for what these two import: no regular expressions (pip's own
    console-script wrapper imports `re`, so `kitty-ops` is a plain script), no
    `json` package, no pathlib, click or pydantic."""
    started, modules = _imported(committed_repo, "start", "--profile", "implementer", "--action", "implement")
    assert started.returncode == 0, started.stderr
    assert modules & HEAVY == set()
    op_id = started.stdout.strip()
    done, modules = _imported(committed_repo, "complete", op_id)
    assert done.returncode == 0, done.stderr
    assert f"{op_id} done, committed" in done.stdout
    assert modules & HEAVY == set()
