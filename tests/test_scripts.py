"""The installed scripts that run on every Op and every commit stay light, and
still say what they should."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import git, open_op

BIN = Path(sys.executable).parent
HEAVY = {"re", "json", "pathlib", "enum", "argparse", "shutil", "click", "pydantic", "subprocess", "datetime"}


def run_imported(repo: Path, script: str, *args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run an installed script; the modules it imported after start-up's `site`."""
    result = subprocess.run([sys.executable, "-X", "importtime", str(BIN / script), *args], cwd=repo,
                            capture_output=True, text=True)
    names = [line.rsplit("|", 1)[1].strip() for line in result.stderr.splitlines() if line.startswith("import time:")]
    return result, set(names[names.index("site") + 1:])


@pytest.mark.parametrize("script", ["kitty-ops-orphans", "kitty-ops-validate", "kitty-ops-post-commit"])
def test_the_commit_hooks_import_nothing_heavy(committed_repo, script):
    open_op(committed_repo)
    result, modules = run_imported(committed_repo, script)
    assert result.returncode == 0, result.stdout + result.stderr
    assert modules & HEAVY == set()


def test_the_validate_hook_still_reports_what_it_finds_and_still_has_help(committed_repo):
    record = committed_repo / "kitty-ops" / "01M8T4KET6G7FACRHH5K39WWYK.jsonl"
    record.parent.mkdir()
    record.write_text("not json\n")
    git(committed_repo, "add", str(record))
    result = subprocess.run([str(BIN / "kitty-ops-validate"), "kitty-ops/01M8T4KET6G7FACRHH5K39WWYK.jsonl"],
                            cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stdout.startswith("kitty-ops/01M8T4KET6G7FACRHH5K39WWYK.jsonl: line 1: not valid JSON")
    helped = subprocess.run([str(BIN / "kitty-ops-validate"), "--help"], capture_output=True, text=True)
    assert helped.returncode == 0 and helped.stdout.startswith("usage: kitty-ops-validate")
    wrong = subprocess.run([str(BIN / "kitty-ops-validate"), "--bogus"], capture_output=True, text=True)
    assert wrong.returncode == 2 and "unrecognized arguments: --bogus" in wrong.stderr
