"""Rolling kitty-ops out to a team (issue 24): the published form for teammates
with nothing installed, set-up that moves no existing hook, the owner of an Op
typed by hand, a way back out, and the papercuts."""
from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from kitty_ops.lifecycle.owners import owners_dir, read_owner
from kitty_ops.setup.precommit_config import published_entry
from kitty_ops.setup.uninstall import remove_hooks_text
from kitty_ops.system.clock import age_text

from .conftest import env_with_scripts, git, kitty_ops_process, open_op
from .test_precommit_e2e import hook_repo  # noqa: F401  (a fixture)

BIN = Path(sys.executable).parent
STAGELESS = (  # a team's hook that declares no `stages`
    "repos:\n- repo: local\n  hooks:\n  - id: team-check\n    name: team check\n"
    "    entry: sh -c 'echo TEAM-CHECK-RAN'\n    language: system\n    always_run: true\n"
    "    pass_filenames: false\n    verbose: true\n"
)


def precommit(repo: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pre_commit", *args], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=600)


def test_hooks_from_writes_the_published_form_at_the_version_tag_or_the_given_rev(committed_repo):
    result = kitty_ops_process("init", "--write", "--hooks-from", "https://git.example.com/kitty-ops.git",
                               cwd=committed_repo)
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load((committed_repo / ".pre-commit-config.yaml").read_text())
    (entry,) = config["repos"]
    assert entry["repo"] == "https://git.example.com/kitty-ops.git" and entry["rev"] == "v0.1.0"
    assert "Executable kitty-ops-orphans not found" not in result.stdout
    (committed_repo / ".pre-commit-config.yaml").unlink()
    kitty_ops_process("init", "--write", "--hooks-from", "/srv/kitty ops", "--rev", "0123abc", cwd=committed_repo,
                      check=True)
    (entry,) = yaml.safe_load((committed_repo / ".pre-commit-config.yaml").read_text())["repos"]
    assert (entry["repo"], entry["rev"]) == ("/srv/kitty ops", "0123abc")
    assert "--rev goes with --hooks-from" in kitty_ops_process("init", "--write", "--rev", "x",
                                                               cwd=committed_repo).stderr


def test_init_write_says_in_one_line_what_a_teammate_without_kitty_ops_sees(committed_repo):
    result = kitty_ops_process("init", "--write", cwd=committed_repo)
    notes = [line for line in result.stdout.splitlines() if "Executable kitty-ops-orphans not found" in line]
    assert len(notes) == 1 and "--hooks-from" in notes[0]


def test_a_teammate_with_no_kitty_ops_commits_through_pre_commit(committed_repo, hook_repo, tmp_path):  # noqa: F811
    source, sha = hook_repo
    bare = tmp_path / "kitty-ops.git"
    git(tmp_path, "clone", "-q", "--bare", str(source), str(bare))
    kitty_ops_process("init", "--write", "--hooks-from", str(bare), "--rev", sha, cwd=committed_repo, check=True)
    git(committed_repo, "add", "-A")
    git(committed_repo, "commit", "-qm", "use kitty-ops", "--no-verify")
    clone = tmp_path / "teammate"
    git(tmp_path, "clone", "-q", str(committed_repo), str(clone))
    path = os.pathsep.join(part for part in os.environ["PATH"].split(os.pathsep)
                           if not (Path(part) / "kitty-ops").exists())
    env = {**os.environ, "PATH": path}
    assert subprocess.run(["sh", "-c", "command -v kitty-ops"], env=env, capture_output=True).returncode != 0
    assert precommit(clone, "install", env=env).returncode == 0
    (clone / "work.txt").write_text("a teammate's work\n")
    git(clone, "add", "work.txt")
    result = subprocess.run(["git", "commit", "-m", "work"], cwd=clone, env=env, capture_output=True, text=True,
                            timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "kitty-ops orphans" in result.stdout + result.stderr


def test_init_keeps_the_teams_stageless_hooks_off_git_push(committed_repo, tmp_path):
    (committed_repo / ".pre-commit-config.yaml").write_text(STAGELESS)
    env = env_with_scripts()
    result = kitty_ops_process("init", "--write", cwd=committed_repo, env=env)
    assert "added default_stages: [pre-commit]" in result.stdout
    assert yaml.safe_load((committed_repo / ".pre-commit-config.yaml").read_text())["default_stages"] == ["pre-commit"]
    assert precommit(committed_repo, "install", env=env).returncode == 0
    git(committed_repo, "add", "-A")
    committed = subprocess.run(["git", "commit", "-m", "use kitty-ops"], cwd=committed_repo, env=env,
                               capture_output=True, text=True, timeout=300)
    assert committed.returncode == 0 and "TEAM-CHECK-RAN" in committed.stdout + committed.stderr
    git(tmp_path, "init", "-q", "--bare", str(tmp_path / "remote.git"))
    git(committed_repo, "remote", "add", "origin", str(tmp_path / "remote.git"))
    pushed = subprocess.run(["git", "push", "-q", "origin", "HEAD:main"], cwd=committed_repo, env=env,
                            capture_output=True, text=True, timeout=300)
    assert pushed.returncode == 0, pushed.stdout + pushed.stderr
    assert "kitty-ops audit" in pushed.stdout + pushed.stderr
    assert "TEAM-CHECK-RAN" not in pushed.stdout + pushed.stderr


def test_an_existing_default_install_hook_types_is_left_as_it_is(committed_repo):
    (committed_repo / ".pre-commit-config.yaml").write_text("default_install_hook_types: [pre-commit]\n" + STAGELESS)
    result = kitty_ops_process("init", "--write", cwd=committed_repo)
    assert "default_stages" not in (committed_repo / ".pre-commit-config.yaml").read_text()
    assert "default_stages" not in result.stdout


def _start_in_a_terminal(repo: Path) -> tuple[str, str]:
    """`kitty-ops start` typed in an interactive bash on a real pty: (op id, what the terminal showed)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(repo)
        os.execvpe("bash", ["bash", "--norc", "--noprofile", "-i"], env_with_scripts())
    command = "op=$(kitty-ops start --profile p --action a); echo OP=$op=; exit\n"
    os.write(fd, command.encode())
    output, deadline = b"", time.monotonic() + 60
    while time.monotonic() < deadline:
        if select.select([fd], [], [], 1)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
    os.waitpid(pid, 0)
    text = output.decode(errors="replace")
    marker = text.rindex("OP=") + 3
    return text[marker:text.index("=", marker)], text


def test_an_op_typed_in_an_interactive_terminal_has_no_owner_process(committed_repo):
    op_id, shown = _start_in_a_terminal(committed_repo)
    assert len(op_id) == 26, shown
    assert read_owner(owners_dir(committed_repo), op_id) is None
    assert "started from an interactive shell: the Op has no owner process" in shown


def test_an_op_started_by_a_script_keeps_its_owner(committed_repo):
    script = committed_repo / "script.sh"
    script.write_text("op=$(kitty-ops start --profile p --action a)\necho $op\n")
    result = subprocess.run(["bash", str(script)], cwd=committed_repo, env=env_with_scripts(), capture_output=True,
                            text=True, stdin=subprocess.DEVNULL)
    owner = read_owner(owners_dir(committed_repo), result.stdout.strip())
    assert owner is not None and owner["pid"] == os.getpid()
    assert "interactive" not in result.stderr


def test_remove_hooks_text_keeps_everything_else():
    from kitty_ops.setup.precommit_config import local_entry

    team = "# ours\nrepos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n      - id: black\n"
    for entry in (local_entry("  "), published_entry("  ")):
        text, removed = remove_hooks_text(team + entry)
        assert (text, removed) == (team, 5)
    mixed = "repos:\n- repo: local\n  hooks:\n  - id: mine\n    entry: x\n  - id: kitty-ops-orphans\n    entry: y\n"
    assert remove_hooks_text(mixed) == ("repos:\n- repo: local\n  hooks:\n  - id: mine\n    entry: x\n", 1)
    assert remove_hooks_text("repos:\n" + local_entry())[0] == "repos: []\n"


def test_uninstall_retires_kitty_ops_and_the_audit_accepts_it(committed_repo):
    env = env_with_scripts()
    kitty_ops_process("init", "--write", cwd=committed_repo, env=env, check=True)
    assert precommit(committed_repo, "install", env=env).returncode == 0
    git(committed_repo, "add", "-A")
    git(committed_repo, "commit", "-qm", "use kitty-ops")
    op = kitty_ops_process("start", "--profile", "p", "--action", "a", cwd=committed_repo, env=env).stdout.strip()
    kitty_ops_process("complete", op, cwd=committed_repo, env=env, check=True)
    result = kitty_ops_process("uninstall", cwd=committed_repo, env=env)
    assert result.returncode == 0, result.stderr
    assert git(committed_repo, "log", "-1", "--format=%s") == "kitty-ops: retired"
    assert not (committed_repo / "kitty-ops").exists() and not (committed_repo / ".git" / "kitty-ops").exists()
    assert "kitty-ops" not in (committed_repo / ".pre-commit-config.yaml").read_text()
    assert "kitty-ops" not in (committed_repo / ".git" / "info" / "exclude").read_text()
    assert git(committed_repo, "status", "--porcelain") == ""
    assert f"kitty-ops/{op}.jsonl" in git(committed_repo, "log", "--name-only", "--format=", "HEAD~1")
    audited = kitty_ops_process("audit", "--json", cwd=committed_repo)
    assert audited.returncode == 0, audited.stdout + audited.stderr


def test_the_audit_still_flags_a_removal_that_does_not_say_it_retires(committed_repo):
    op = open_op(committed_repo)
    kitty_ops_process("complete", op, cwd=committed_repo, check=True)
    git(committed_repo, "rm", "-r", "-q", "kitty-ops")
    git(committed_repo, "commit", "-qm", "tidy up", "--no-verify")
    result = kitty_ops_process("audit", cwd=committed_repo)
    assert result.returncode == 1 and "deleted-record" in result.stdout


def test_uninstall_keep_records_leaves_the_records(committed_repo):
    kitty_ops_process("init", "--write", cwd=committed_repo, check=True)
    head = git(committed_repo, "rev-parse", "HEAD")
    result = kitty_ops_process("uninstall", "--keep-records", cwd=committed_repo)
    assert result.returncode == 0 and "--keep-records" in result.stdout
    assert (committed_repo / "kitty-ops" / ".gitattributes").exists()
    assert git(committed_repo, "rev-parse", "HEAD") == head


@pytest.mark.parametrize(("hours", "shown"), [(0.0, "<1 min"), (0.2, "12 min"), (3.5, "3 h"), (47.9, "47 h"),
                                              (50, "2 d"), (None, "?")])
def test_ages_read_as_a_person_reads_them(hours, shown):
    assert age_text(hours) == shown


def test_doctor_lists_running_ops_as_in_progress_and_the_dead_ones_hint_needs_no_threshold(committed_repo):
    from kitty_ops.lifecycle.owners import record_owner

    running = open_op(committed_repo)
    record_owner(committed_repo, running, os.getpid())
    dead_owner = subprocess.Popen(["true"])
    dead_owner.wait()
    dead = open_op(committed_repo)
    record_owner(committed_repo, dead, os.getpid())
    owner_file = Path(owners_dir(committed_repo)) / f"{dead}.json"
    owner = json.loads(owner_file.read_text())
    owner_file.write_text(json.dumps({**owner, "pid": dead_owner.pid, "start_time": 1}))
    result = kitty_ops_process("doctor", "ops", cwd=committed_repo)
    head, orphans = result.stdout.split("Orphans")
    assert head.startswith("In progress (their owner runs): 1") and running in head and dead not in head
    assert dead in orphans and running not in orphans and "--threshold-hours" not in orphans
    assert "kitty-ops doctor ops --close-stale" in orphans
    report = json.loads(kitty_ops_process("doctor", "ops", "--json", cwd=committed_repo).stdout)
    assert [entry["invocation_id"] for entry in report["in_progress"]] == [running]
    assert [entry["invocation_id"] for entry in report["orphans"]] == [dead]


def test_start_outside_git_says_where_it_writes_and_that_nothing_is_committed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = kitty_ops_process("start", "--profile", "p", "--action", "a", cwd=tmp_path)
    assert result.returncode == 0 and (tmp_path / "kitty-ops" / f"{result.stdout.strip()}.jsonl").exists()
    [note] = result.stderr.splitlines()
    assert f"written to {tmp_path.resolve() / 'kitty-ops'}" in note and "nothing there is committed" in note
    again = kitty_ops_process("start", "--profile", "p", "--action", "a", "--repo", str(tmp_path), cwd=tmp_path)
    assert again.returncode == 0 and again.stderr == ""


@pytest.mark.parametrize("script", ["kitty-ops", "kitty-ops-orphans", "kitty-ops-validate", "kitty-ops-post-commit",
                                    "kitty-ops-audit", "kitty-ops-sync", "kitty-ops-post-complete"])
def test_every_console_script_has_help(script, tmp_path):
    result = subprocess.run([str(BIN / script), "--help"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.lower().startswith("usage:"), result.stdout + result.stderr
    if script != "kitty-ops":
        wrong = subprocess.run([str(BIN / script), "--bogus"], cwd=tmp_path, capture_output=True, text=True)
        assert wrong.returncode == 2
