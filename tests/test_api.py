"""The Python API: start, complete, and the `op()` context manager."""
from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

import kitty_ops

from .conftest import PROJECT_ROOT, git, record


def events_of(repo, op_id):
    return [json.loads(line) for line in record(repo, op_id).read_text().splitlines()]


def test_the_package_import_stays_light():
    probe = "import sys; import kitty_ops; print(' '.join(sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.split()
    assert "pydantic" not in loaded and "click" not in loaded and "kitty_ops.api" not in loaded


def test_op_completes_done_and_commits(committed_repo):
    with kitty_ops.op(profile="implementer", action="implement", request_text="add a cache") as op:
        (committed_repo / "cache.py").write_text("CACHE = {}\n")
        op.artifact("cache.py")
    completed, link = events_of(committed_repo, op.invocation_id)[1:]
    assert (completed["outcome"], completed["closed_by"]) == ("done", "agent")
    assert link["ref"] == "cache.py"
    assert op.completion.commit == git(committed_repo, "rev-parse", "HEAD")
    assert git(committed_repo, "log", "-1", "--format=%s") == f"op(implementer): implement [{op.invocation_id[:8]}]"


def test_op_completes_failed_and_re_raises(committed_repo):
    with pytest.raises(ZeroDivisionError), kitty_ops.op(profile="implementer", action="implement") as op:
        _ = 1 / 0
    completed = events_of(committed_repo, op.invocation_id)[1]
    assert completed["outcome"] == "failed"
    assert completed["evidence_ref"] == "ZeroDivisionError: division by zero"
    assert op.completion.commit


def test_op_outcome_and_evidence_can_be_chosen(committed_repo):
    with kitty_ops.op(profile="reviewer", action="review", mission_id="M1") as op:
        op.outcome = "abandoned"
        op.evidence = "superseded by #12"
    completed = events_of(committed_repo, op.invocation_id)[1]
    assert (completed["outcome"], completed["evidence_ref"]) == ("abandoned", "superseded by #12")
    assert (committed_repo / "kitty-ops" / "lifecycle.jsonl").exists()


def test_start_and_complete_functions(committed_repo):
    started = kitty_ops.start("implementer", "implement", repo=committed_repo, wp_id="WP01")
    assert isinstance(started, kitty_ops.InvocationRecord) and started.wp_id == "WP01"
    completion = kitty_ops.complete(started.invocation_id, "failed", evidence="tests red", commit=False)
    assert completion.outcome == "failed" and completion.commit is None
    assert completion.pending_reason == "--no-commit"
    read = kitty_ops.read_record(record(committed_repo, started.invocation_id))
    assert read.completed.evidence_ref == "tests red" and read.started == started


def test_bad_input_raises_a_kitty_ops_error(committed_repo):
    with pytest.raises(kitty_ops.KittyOpsError, match="action"):
        kitty_ops.start("implementer", "two\nlines")


def test_readme_example_runs(committed_repo):
    readme = (PROJECT_ROOT / "docs" / "python-api.md").read_text()
    example = re.search(r"# Python API.*?```python\n(.*?)```", readme, re.S).group(1)
    result = subprocess.run([sys.executable, "-c", example], cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert git(committed_repo, "log", "--format=%s", "--grep=^op(").count("op(") >= 1
