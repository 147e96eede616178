"""Op owners, with real processes: who owns an Op, and whether it still runs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import kitty_ops
from kitty_ops.doctor.ops import close_stale, doctor_report
from kitty_ops.hooks.orphans import main as orphans_hook
from kitty_ops.lifecycle import owners
from kitty_ops.lifecycle.executor import complete_invocation
from kitty_ops.system import processes

from .conftest import env_with_scripts, git, kitty_ops_process, open_op, reap, wait_for

STARTER = """
import sys, time
import kitty_ops
print(kitty_ops.start("implementer", "implement").invocation_id, flush=True)
time.sleep(120)
"""


def owner_file(repo: Path, op_id: str) -> Path:
    return repo / ".git" / "kitty-ops" / "owners" / f"{op_id}.json"


def write_owner(repo: Path, op_id: str, **changes) -> None:
    """An owner file written by hand: this process, with `changes` applied."""
    owner = {"invocation_id": op_id, **owners.identity(os.getpid()), **changes}
    path = owner_file(repo, op_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(owner))


@pytest.fixture
def agent():
    """A real process standing in for an agent; killed at the end if still there."""
    started = []

    def spawn(*command: str, **kwargs) -> subprocess.Popen:
        process = subprocess.Popen(command or ("sleep", "120"), **kwargs)
        started.append(process)
        return process

    yield spawn
    reap(started)


def gone_pid(agent) -> int:
    process = agent()
    process.kill()
    process.wait()
    return process.pid


def test_the_api_owner_is_the_calling_process_kept_outside_history(committed_repo):
    started = kitty_ops.start("implementer", "implement")
    owner = json.loads(owner_file(committed_repo, started.invocation_id).read_text())
    assert owner["pid"] == os.getpid()
    assert owner["host"] == os.uname().nodename
    assert owner["start_time"] == processes.start_time(os.getpid())
    assert owner["boot_id"] == Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    assert owners.owner_state(committed_repo, started.invocation_id) == "running"
    untracked = git(committed_repo, "status", "--porcelain", "--untracked-files=all").splitlines()
    assert f"?? kitty-ops/{started.invocation_id}.jsonl" in untracked
    assert not [line for line in untracked if "owner" in line]

    kitty_ops.complete(started.invocation_id)
    assert not owner_file(committed_repo, started.invocation_id).exists()
    assert "owner" not in git(committed_repo, "log", "--all", "--name-only", "--format=")


def test_an_owner_killed_with_sigkill_is_dead_at_once_and_the_hook_blocks(committed_repo, agent, capsys):
    process = agent(sys.executable, "-c", STARTER, stdout=subprocess.PIPE, text=True)
    op_id = process.stdout.readline().strip()
    assert owners.owner_state(committed_repo, op_id) == "running"
    assert orphans_hook([]) == 0

    process.send_signal(signal.SIGKILL)
    process.wait()
    assert owners.owner_state(committed_repo, op_id) == "dead"
    capsys.readouterr()
    assert orphans_hook([]) == 1
    out = capsys.readouterr().out
    assert (
        f"Op {op_id} (implementer: implement, started <1 min ago) is a dead orphan (owner pid {process.pid} is gone)."
    ) in out
    assert f"kitty-ops complete {op_id} --outcome abandoned" in out


def test_a_real_git_commit_is_blocked_by_the_hook_when_the_owner_died(committed_repo, agent):
    hook = committed_repo / ".git" / "hooks" / "pre-commit"
    hook.write_text(f"#!/bin/sh\nexec '{sys.executable}' -m kitty_ops.hooks.orphans\n")
    hook.chmod(0o755)
    process = agent(sys.executable, "-c", STARTER, stdout=subprocess.PIPE, text=True)
    op_id = process.stdout.readline().strip()
    (committed_repo / "README.md").write_text("changed\n")
    git(committed_repo, "add", "README.md")
    process.kill()
    process.wait()

    result = subprocess.run(["git", "commit", "-m", "work"], cwd=committed_repo, capture_output=True, text=True)
    assert result.returncode == 1
    assert f"Op {op_id} (implementer: implement, started <1 min ago) is a dead orphan" in result.stdout + result.stderr
    assert git(committed_repo, "log", "-1", "--format=%s") == "initial"


def test_a_killed_owner_not_yet_reaped_is_dead(committed_repo, agent):
    process = agent()
    op_id = open_op(committed_repo)
    owners.record_owner(committed_repo, op_id, process.pid)
    assert owners.owner_state(committed_repo, op_id) == "running"
    process.kill()  # a zombie until waited for
    wait_for(lambda: owners.owner_state(committed_repo, op_id) == "dead")
    assert Path(f"/proc/{process.pid}").exists()  # still there, as a zombie


def test_a_reused_pid_is_dead(committed_repo):
    op_id = open_op(committed_repo)
    write_owner(committed_repo, op_id, start_time=processes.start_time(os.getpid()) - 1)
    assert processes.is_alive(os.getpid())
    assert owners.owner_state(committed_repo, op_id) == "dead"
    assert owners.OwnerStates(committed_repo).assess(op_id) == (
        "dead", f"owner pid {os.getpid()} is gone (the pid now belongs to another process)"
    )


def test_a_gone_pid_is_dead(committed_repo, agent):
    op_id = open_op(committed_repo)
    write_owner(committed_repo, op_id, pid=gone_pid(agent))
    assert owners.owner_state(committed_repo, op_id) == "dead"


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"host": "build-07.elsewhere"}, "runs on another host (build-07.elsewhere)"),
        ({"boot_id": "00000000-0000-0000-0000-000000000000"}, "was recorded before the last reboot"),
        ({"pid_namespace": "pid:[1]"}, "runs in another pid namespace (pid:[1])"),
    ],
)
def test_an_owner_elsewhere_is_unknown_even_when_its_pid_is_gone_here(committed_repo, agent, changes, detail):
    op_id = open_op(committed_repo)
    pid = gone_pid(agent)
    write_owner(committed_repo, op_id, pid=pid, **changes)
    assert owners.OwnerStates(committed_repo).assess(op_id) == ("unknown", f"owner pid {pid} {detail}")


def test_no_owner_or_an_unreadable_one_is_unknown(committed_repo):
    op_id = open_op(committed_repo)
    assert owners.owner_state(committed_repo, op_id) == "unknown"
    owner_file(committed_repo, op_id).parent.mkdir(parents=True)
    owner_file(committed_repo, op_id).write_text('{"pid": "twelve"')
    assert owners.owner_state(committed_repo, op_id) == "unknown"


def run_script(repo: Path, tmp_path: Path, text: str, *, executable: bool = False) -> str:
    """Run a shell script that starts an Op and exits; the id it wrote down."""
    script = tmp_path / "start-op.sh"
    script.write_text(f"#!/bin/sh\n{text}\n")
    script.chmod(0o755)
    command = [str(script)] if executable else ["sh", str(script)]
    subprocess.run(command, cwd=repo, env=env_with_scripts(), check=True, timeout=60)
    return (tmp_path / "op-id").read_text().strip()


@pytest.mark.parametrize("executable", [False, True], ids=["sh script", "#! script"])
def test_op_from_a_command_substitution_in_a_script_is_owned_by_who_ran_the_script(
    committed_repo, tmp_path, executable
):
    """The README's `op=$(kitty-ops start ...)`, in a script that ends at once:
    the shells are skipped, and the owner is this test's own process."""
    op_id = run_script(
        committed_repo, tmp_path,
        f'op=$(kitty-ops start --profile implementer --action implement)\necho "$op" > {tmp_path}/op-id',
        executable=executable,
    )
    assert json.loads(owner_file(committed_repo, op_id).read_text())["pid"] == os.getpid()
    assert owners.owner_state(committed_repo, op_id) == "running"


def test_owner_pid_names_the_owner(committed_repo, agent):
    process = agent()
    result = kitty_ops_process("start", "--profile", "p", "--action", "a", "--owner-pid", str(process.pid),
                               cwd=committed_repo)
    op_id = result.stdout.strip()
    assert json.loads(owner_file(committed_repo, op_id).read_text())["pid"] == process.pid
    assert owners.owner_state(committed_repo, op_id) == "running"
    process.kill()
    process.wait()
    assert owners.owner_state(committed_repo, op_id) == "dead"


def test_owner_pid_of_no_process_is_bad_input(committed_repo, agent):
    pid = gone_pid(agent)
    result = kitty_ops_process("start", "--profile", "p", "--action", "a", "--owner-pid", str(pid),
                               cwd=committed_repo)
    assert result.returncode == 2
    assert result.stderr == f"kitty-ops: error: --owner-pid {pid}: no such process\n"
    assert not (committed_repo / "kitty-ops").exists()


def test_worktrees_of_a_clone_share_the_owners(committed_repo, tmp_path):
    other = tmp_path / "other-worktree"
    git(committed_repo, "worktree", "add", "-q", str(other))
    started = kitty_ops.start("implementer", "implement", repo=other)
    assert owner_file(committed_repo, started.invocation_id).exists()
    assert owners.owner_state(other, started.invocation_id) == "running"
    assert not (other / "kitty-ops" / ".owners").exists()


def test_outside_git_the_owner_lies_beside_the_records(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    started = kitty_ops.start("implementer", "implement", repo=tmp_path)
    assert (tmp_path / "kitty-ops" / ".owners" / f"{started.invocation_id}.json").exists()
    assert owners.owner_state(tmp_path, started.invocation_id) == "running"
    complete_invocation(tmp_path, started.invocation_id)
    assert not (tmp_path / "kitty-ops" / ".owners" / f"{started.invocation_id}.json").exists()


def test_the_sweep_closes_dead_ops_at_any_age_and_never_running_ones(committed_repo, agent):
    dead = open_op(committed_repo, hours_ago=0.1, profile_id="reviewer", action="review")
    write_owner(committed_repo, dead, pid=gone_pid(agent))
    running_old = open_op(committed_repo, hours_ago=300)
    owners.record_owner(committed_repo, running_old, os.getpid())
    unknown_fresh = open_op(committed_repo, hours_ago=0.1)

    orphans = {entry["invocation_id"]: entry for entry in doctor_report(committed_repo)["orphans"]}
    assert {op_id: entry["owner_state"] for op_id, entry in orphans.items()} == {
        dead: "dead", running_old: "running", unknown_fresh: "unknown"
    }
    closed = close_stale(committed_repo, threshold_hours=24)
    assert [(entry["invocation_id"], entry["result"]) for entry in closed] == [(dead, "closed")]
    assert closed[0]["stale_because"].endswith("is gone")
    assert close_stale(committed_repo, threshold_hours=0)[0]["invocation_id"] == unknown_fresh
    assert [entry["invocation_id"] for entry in doctor_report(committed_repo)["orphans"]] == [running_old]


def test_doctor_shows_the_owner_in_its_table_and_json(committed_repo, agent):
    dead = open_op(committed_repo, hours_ago=0.5)
    write_owner(committed_repo, dead, pid=gone_pid(agent))
    running = open_op(committed_repo, hours_ago=30)
    owners.record_owner(committed_repo, running, os.getpid())

    text = kitty_ops_process("doctor", "ops", cwd=committed_repo)
    assert text.returncode == 1
    rows = {line.split()[0]: line.split() for line in text.stdout.splitlines() if line.startswith("  01")}
    assert rows[dead][5:7] == ["dead", "stale"]  # ages read `30 min`, `30 h`: two words
    assert rows[running][5:7] == ["running", "running"]  # 30h old, but its owner (this test) runs
    report = json.loads(kitty_ops_process("doctor", "ops", "--json", cwd=committed_repo).stdout)
    states = {entry["invocation_id"]: (entry["owner_state"], entry["stale"]) for entry in report["orphans"]}
    assert states[dead] == ("dead", True)


def test_a_running_owner_keeps_an_old_op_from_blocking_the_hook(committed_repo, capsys):
    op_id = open_op(committed_repo, hours_ago=30)
    owners.record_owner(committed_repo, op_id, os.getpid())
    assert orphans_hook([]) == 0
    assert capsys.readouterr().out == (
        "kitty-ops: 1 Op in progress (owner running); kitty-ops-orphans --verbose lists them\n")
    assert orphans_hook(["--verbose"]) == 0
    assert capsys.readouterr().out == (
        f"warning: kitty-ops/{op_id}.jsonl: Op {op_id} (implementer: implement, started 30 h ago)"
        f" is still open (owner pid {os.getpid()} is running).\n"
    )
    assert orphans_hook(["--strict"]) == 1


def test_list_open_and_show_name_the_owner_state(committed_repo, agent):
    dead = open_op(committed_repo)
    write_owner(committed_repo, dead, pid=gone_pid(agent))
    listed = json.loads(kitty_ops_process("list", "--open", "--json", cwd=committed_repo).stdout)
    assert [(op["invocation_id"], op["owner_state"]) for op in listed] == [(dead, "dead")]
    assert kitty_ops_process("list", "--open", cwd=committed_repo).stdout.rstrip().endswith("(owner dead)")
    shown = kitty_ops_process("show", dead, cwd=committed_repo).stdout
    assert "  owner     dead (owner pid" in shown
    assert json.loads(kitty_ops_process("show", dead, "--json", cwd=committed_repo).stdout)["owner_state"] == "dead"


def test_many_ops_in_progress_are_one_summary_line_and_verbose_lists_them(committed_repo, capsys):
    ids = [open_op(committed_repo) for _ in range(3)]
    for op_id in ids:
        owners.record_owner(committed_repo, op_id, os.getpid())
    assert orphans_hook([]) == 0
    assert capsys.readouterr().out == (
        "kitty-ops: 3 Ops in progress (owner running); kitty-ops-orphans --verbose lists them\n")
    assert orphans_hook(["--verbose"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 3 and all(any(op_id in line for line in listed) for op_id in ids)
