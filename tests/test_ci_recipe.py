"""The CI job of docs/audit-and-ci.md, run as a CI system runs it: in a shallow checkout
(depth 1, as `actions/checkout` makes one by default), its `run:` lines as
written, `${{ ... }}` filled in as the CI system fills them."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import PROJECT_ROOT, git

PROFILE = "implementer"


def recipe_steps() -> dict[str, str]:
    """{step name: its `run:` script} of the documented workflow (docs/audit-and-ci.md)."""
    readme = (PROJECT_ROOT / "docs" / "audit-and-ci.md").read_text()
    workflow = re.search(r"```yaml\n# \.github/workflows/kitty-ops\.yml\n(.*?)```", readme, re.S).group(1)
    steps = {}
    for match in re.finditer(r"- name: (.*?)\n(?:\s+if: .*\n)?\s+run: \|\n((?:\s{10}.*\n)+)", workflow):
        steps[match.group(1)] = "\n".join(line.strip() for line in match.group(2).splitlines())
    return steps


def fill(script: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{\{\s*([\w.]+)\s*\}\}", lambda match: values[match.group(1)], script)


@pytest.fixture
def origin(tmp_path) -> Path:
    """A remote with a main branch whose history holds Op commits, and a pull
    request branch `topic` made from it."""
    work = tmp_path / "work"
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True)
    (work / "README.md").write_text("hello\n")
    git(work, "add", "README.md")
    git(work, "commit", "-qm", "initial")
    for number in range(3):
        run_op(work, f"step{number}")
        (work / "README.md").write_text(f"hello {number}\n")
        git(work, "commit", "-qam", f"work {number}")
    git(work, "checkout", "-q", "-b", "topic")
    remote = tmp_path / "origin.git"
    git(tmp_path, "clone", "-q", "--bare", str(work), str(remote))
    return work


def run_op(work: Path, action: str) -> None:
    result = subprocess.run([sys.executable, "-m", "kitty_ops", "run", "--profile", PROFILE, "--action", action,
                             "--", "true"], cwd=work, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def push_topic(work: Path) -> None:
    git(work, "push", "-q", str(work.parent / "origin.git"), "topic")


def pull_request_checkout(tmp_path: Path) -> Path:
    """What a CI system checks out for a pull request: its head, depth 1, detached."""
    checkout = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "topic", f"file://{tmp_path / 'origin.git'}",
        str(checkout))
    git(checkout, "checkout", "-q", "--detach")
    return checkout


def run_step(checkout: Path, script: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    return subprocess.run(["bash", "-e", "-c", script], cwd=checkout, env=env, capture_output=True, text=True,
                          timeout=300)


def test_the_readme_job_passes_a_clean_pull_request_from_a_shallow_checkout(origin, tmp_path):
    run_op(origin, "review")
    push_topic(origin)
    script = fill(recipe_steps()["Audit what this pull request adds"], {"github.base_ref": "main"})
    result = run_step(pull_request_checkout(tmp_path), script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "kitty-ops audit: 1 commit touching kitty-ops/ checked, no problems"


def test_the_readme_job_blocks_a_pull_request_that_commits_an_orphan(origin, tmp_path):
    op_id = subprocess.run([sys.executable, "-m", "kitty_ops", "start", "--profile", PROFILE, "--action", "x"],
                           cwd=origin, capture_output=True, text=True, check=True).stdout.strip()
    git(origin, "add", "kitty-ops")
    git(origin, "commit", "-q", "--no-verify", "-m", "an orphan slips in")
    push_topic(origin)
    script = fill(recipe_steps()["Audit what this pull request adds"], {"github.base_ref": "main"})
    result = run_step(pull_request_checkout(tmp_path), script)
    assert result.returncode == 1, result.stdout + result.stderr
    assert op_id in result.stdout and "[committed-orphan]" in result.stdout


def test_without_its_fetch_the_audit_of_a_shallow_checkout_is_not_a_false_green(origin, tmp_path):
    run_op(origin, "review")
    push_topic(origin)
    checkout = pull_request_checkout(tmp_path)
    audit_line = fill(recipe_steps()["Audit what this pull request adds"], {"github.base_ref": "main"})
    result = run_step(checkout, audit_line.splitlines()[-1])
    assert result.returncode == 2, result.stdout + result.stderr
    assert "git fetch" in result.stderr


def test_the_readme_job_audits_a_push(origin, tmp_path):
    before = git(origin, "rev-parse", "HEAD")
    run_op(origin, "review")
    push_topic(origin)
    after = git(origin, "rev-parse", "HEAD")
    checkout = pull_request_checkout(tmp_path)
    script = fill(recipe_steps()["Audit what this push adds"], {"github.event.before": before, "github.sha": after})
    result = run_step(checkout, script)
    assert result.returncode == 0, result.stdout + result.stderr
