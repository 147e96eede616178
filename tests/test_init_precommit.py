"""`kitty-ops init --write`: a `repo: local` entry that runs the installed hooks
with no network, the same hooks as `.pre-commit-hooks.yaml`."""
from __future__ import annotations

import subprocess
import sys

import yaml

from kitty_ops.setup.precommit_config import OPTIONAL, local_entry, published_entry

from .conftest import PROJECT_ROOT, env_with_scripts, git, kitty_ops_process, open_op

SETTINGS = ("id", "name", "entry", "stages", "pass_filenames", "always_run", "files", "types")
DEFAULTS = {"pass_filenames": True, "always_run": False}  # pre-commit's


def test_the_local_entry_has_the_hooks_of_the_manifest_with_their_settings():
    manifest = yaml.safe_load((PROJECT_ROOT / ".pre-commit-hooks.yaml").read_text())
    (local,) = yaml.safe_load("repos:\n" + local_entry())["repos"]
    assert local["repo"] == "local"
    installed = [hook for hook in manifest if hook["id"] not in OPTIONAL]
    assert [hook["id"] for hook in local["hooks"]] == [hook["id"] for hook in installed]
    for written, declared in zip(local["hooks"], installed, strict=True):
        assert written["language"] == "system"
        def settings(hook):
            return {key: hook.get(key, DEFAULTS.get(key)) for key in SETTINGS}

        assert settings(written) == settings(declared)


def test_the_published_entry_names_the_repository_and_the_release():
    (published,) = yaml.safe_load("repos:\n" + published_entry())["repos"]
    assert published["repo"] == "https://github.com/kitty-ops/kitty-ops" and published["rev"] == "v0.1.0"
    assert [hook["id"] for hook in published["hooks"]] == [
        "kitty-ops-orphans", "kitty-ops-validate", "kitty-ops-audit", "kitty-ops-sync", "kitty-ops-link"]


def test_init_write_says_how_teammates_get_the_published_form(committed_repo):
    result = kitty_ops_process("init", "--write", cwd=committed_repo)
    assert result.returncode == 0, result.stderr
    assert "Executable kitty-ops-orphans not found" in result.stdout and "--hooks-from" in result.stdout
    config = (committed_repo / ".pre-commit-config.yaml").read_text()
    assert config.startswith(
        "default_install_hook_types: [pre-commit, prepare-commit-msg, pre-push]\n"
        "default_stages: [pre-commit]\nrepos:\n")
    printed = kitty_ops_process("init", cwd=committed_repo).stdout
    assert published_entry().rstrip() in printed
    assert local_entry() in config


def test_the_readme_shows_both_forms_as_init_writes_them():
    readme = (PROJECT_ROOT / "docs" / "hooks.md").read_text()
    assert local_entry().rstrip() in readme and published_entry().rstrip() in readme
    assert "pip install 'kitty-ops[pre-commit]'" in readme


def test_hooks_written_by_init_run_through_pre_commit_with_no_network(committed_repo):
    env = env_with_scripts()
    assert kitty_ops_process("init", "--write", cwd=committed_repo, env=env).returncode == 0
    installed = subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=committed_repo, env=env,
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    for stage in ("pre-commit", "prepare-commit-msg", "pre-push"):
        assert (committed_repo / ".git" / "hooks" / stage).exists()
    assert not (committed_repo / ".git" / "hooks" / "post-commit").exists()  # nothing runs after a commit
    git(committed_repo, "add", "-A")
    first = subprocess.run(["git", "commit", "-m", "use kitty-ops"], cwd=committed_repo, env=env,
                           capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "kitty-ops orphans" in first.stdout + first.stderr
    op_id = open_op(committed_repo)
    git(committed_repo, "add", f"kitty-ops/{op_id}.jsonl")
    blocked = subprocess.run(["git", "commit", "-m", "sneak"], cwd=committed_repo, env=env,
                             capture_output=True, text=True, timeout=300)
    assert blocked.returncode == 1 and f"Op {op_id}" in blocked.stdout + blocked.stderr


def test_init_write_links_an_agents_commit_through_pre_commit_and_leaves_a_persons_alone(committed_repo):
    env = env_with_scripts()
    assert kitty_ops_process("init", "--write", cwd=committed_repo, env=env).returncode == 0
    subprocess.run([sys.executable, "-m", "pre_commit", "install"], cwd=committed_repo, env=env, check=True,
                   capture_output=True, timeout=300)
    git(committed_repo, "add", "-A")
    subprocess.run(["git", "commit", "-qm", "use kitty-ops"], cwd=committed_repo, env=env, check=True,
                   capture_output=True, timeout=300)  # a person's own: no Op above it
    assert "Op-Id" not in git(committed_repo, "log", "-1", "--format=%B")
    (committed_repo / "a.txt").write_text("a\n")
    git(committed_repo, "add", "a.txt")
    ran = kitty_ops_process("run", "--profile", "agent", "--action", "implement", "--",
                            "git", "commit", "-qm", "Add a", cwd=committed_repo, env=env)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    linked = git(committed_repo, "log", "--format=%s%x00%(trailers:key=Op-Id,valueonly)", "--grep", "Add a")
    subject, op_id = linked.strip().split("\0")
    assert subject == "Add a" and len(op_id.strip()) == 26
    assert f"kitty-ops/{op_id.strip()}.jsonl" in git(committed_repo, "ls-files", "kitty-ops")
