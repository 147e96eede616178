"""`kitty-ops run -- COMMAND`, as its own process, around real commands."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kitty_ops.hooks.orphans import main as orphans_hook
from kitty_ops.lifecycle import owners
from kitty_ops.lifecycle.runner import run_op
from kitty_ops.system import processes

from .conftest import git, kitty_ops_process, wait_for

START = ("run", "--profile", "implementer", "--action", "implement")
started_at: dict[int, int | None] = {}  # the commands `start_run` started: pid -> start time


def run(*command: str, repo: Path, options: tuple[str, ...] = (), **kwargs) -> subprocess.CompletedProcess:
    return kitty_ops_process(*START, *options, "--", *command, cwd=repo, **kwargs)


def only_op(repo: Path) -> tuple[str, list[dict]]:
    """The id and events of the one Op in the repository."""
    (path,) = [path for path in (repo / "kitty-ops").glob("*.jsonl") if len(path.stem) == 26]
    return path.stem, [json.loads(line) for line in path.read_text().splitlines()]


def completed(events: list[dict]) -> dict:
    (event,) = [event for event in events if event["event"] == "completed"]
    return event


@pytest.mark.parametrize(
    ("command", "code", "outcome", "evidence"),
    [
        (["true"], 0, "done", "exit 0"),
        (["false"], 1, "failed", "exit 1"),
        (["sh", "-c", "exit 3"], 3, "failed", "exit 3"),
        (["sh", "-c", "kill -KILL $$"], 137, "failed", "exit 137 (killed by SIGKILL)"),
    ],
)
def test_the_exit_code_decides_the_outcome_and_is_passed_through(committed_repo, command, code, outcome, evidence):
    result = run(*command, repo=committed_repo)
    assert result.returncode == code
    op_id, events = only_op(committed_repo)
    assert completed(events)["outcome"] == outcome
    assert completed(events)["evidence_ref"] == evidence
    assert git(committed_repo, "log", "-1", "--format=%s") == f"op(implementer): implement [{op_id[:8]}]"
    assert git(committed_repo, "status", "--porcelain") == ""
    assert result.stderr.startswith(f"kitty-ops: Op {op_id} {outcome} ({evidence}), committed ")


def test_the_command_keeps_stdin_and_stdout_and_finds_its_op_id(committed_repo):
    result = run("sh", "-c", 'cat; echo "op $KITTY_OPS_OP_ID"', repo=committed_repo, input="from stdin\n")
    op_id, _ = only_op(committed_repo)
    assert result.stdout == f"from stdin\nop {op_id}\n"  # nothing of kitty-ops' own on stdout


def test_options_after_the_command_are_the_commands(committed_repo):
    result = kitty_ops_process(*START, "sh", "-c", 'echo "$@"', "sh", "--profile", "x", cwd=committed_repo)
    assert result.returncode == 0
    assert result.stdout == "--profile x\n"


def test_a_missing_program_is_127_with_one_line_and_a_failed_op(committed_repo):
    result = run("no-such-program-kitty", "--flag", repo=committed_repo)
    assert result.returncode == 127
    op_id, events = only_op(committed_repo)
    assert result.stderr == (
        f"kitty-ops: error: cannot run 'no-such-program-kitty': No such file or directory (Op {op_id} failed)\n"
    )
    assert completed(events)["outcome"] == "failed"
    assert completed(events)["evidence_ref"] == (
        "exit 127 (cannot run 'no-such-program-kitty': No such file or directory)"
    )
    assert git(committed_repo, "log", "-1", "--format=%s").startswith("op(implementer)")


def test_bad_input_runs_nothing(committed_repo, tmp_path):
    result = kitty_ops_process("run", "--profile", "-bad", "--action", "a", "--", "touch", str(tmp_path / "ran"),
                               cwd=committed_repo)
    assert result.returncode == 2
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("kitty-ops: error: ")
    assert not (tmp_path / "ran").exists()
    missing = kitty_ops_process(*START, cwd=committed_repo)
    assert missing.returncode == 2
    assert missing.stderr.startswith("kitty-ops: error: Missing argument")


def test_artifacts_changed_records_what_the_command_created_or_changed(committed_repo):
    root = committed_repo
    (root / ".gitignore").write_text("build/\n")
    (root / "tracked.txt").write_text("one\n")
    (root / "untouched.txt").write_text("same\n")
    (root / "gone.txt").write_text("bye\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "files")
    (root / "dirty-before.txt").write_text("draft\n")  # untracked before, rewritten by the command
    (root / "dirty-kept.txt").write_text("kept\n")  # untracked before, left alone
    script = (
        "echo two >> tracked.txt; echo new > created.txt; mkdir -p src/deep; echo x > src/deep/mod.py;"
        " echo final > dirty-before.txt; rm gone.txt; mkdir -p build; echo o > build/out.bin;"
        " echo c > committed.txt; git add committed.txt; git commit -qm 'agent commit'"
    )
    result = run("sh", "-c", script, repo=root, options=("--artifacts", "changed"))
    assert result.returncode == 0, result.stderr
    _, events = only_op(root)
    assert [event["ref"] for event in events if event["event"] == "artifact_link"] == [
        "committed.txt", "created.txt", "dirty-before.txt", "src/deep/mod.py", "tracked.txt",
    ]


def test_artifacts_changed_needs_git(tmp_path):
    result = run("true", repo=tmp_path, options=("--artifacts", "changed"))
    assert result.returncode == 2
    assert "not a git repository" in result.stderr
    assert not (tmp_path / "kitty-ops").exists()


def start_run(repo: Path, tmp_path: Path, command: str, setup: str = ":") -> tuple[subprocess.Popen, int]:
    """`kitty-ops run -- sh -c 'SETUP; COMMAND'` in the background, once SETUP
    is done; (run, the shell's pid)."""
    ready = tmp_path / "child-pid"
    script = f"{setup}; echo $$ > {ready}.tmp && mv {ready}.tmp {ready}; {command}"
    process = subprocess.Popen([sys.executable, "-m", "kitty_ops", *START, "--", "sh", "-c", script], cwd=repo,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    child = int(wait_for(lambda: ready.exists() and ready.read_text().strip()))
    started_at[child] = processes.start_time(child)
    return process, child


@pytest.fixture
def reap():
    """`run` processes, and the pids of their commands, to end after a test if still running."""
    popens: list[subprocess.Popen] = []
    pids: list[int] = []
    yield popens, pids
    for pid, born in [(pid, processes.start_time(pid)) for pid in pids]:
        if born is not None and born == started_at.get(pid):  # that very process, not a reused pid
            os.kill(pid, signal.SIGKILL)
    for process in popens:
        if process.poll() is None:
            process.kill()
        process.communicate()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_an_interrupted_run_forwards_the_signal_and_abandons_the_op(committed_repo, tmp_path, reap, signum, code):
    process, child = start_run(committed_repo, tmp_path, "exec sleep 120")
    reap[0].append(process)
    reap[1].append(child)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code
    assert not Path(f"/proc/{child}").exists()  # the command was terminated (and reaped)
    op_id, events = only_op(committed_repo)
    name = signal.Signals(signum).name
    assert completed(events)["outcome"] == "abandoned"
    assert completed(events)["evidence_ref"] == f"interrupted by {name}; exit {code} (killed by {name})"
    assert git(committed_repo, "log", "-1", "--format=%s") == f"op(implementer): implement [{op_id[:8]}]"
    assert f"Op {op_id} abandoned" in stderr


def test_a_command_that_handles_the_signal_keeps_its_exit_code(committed_repo, tmp_path, reap):
    process, child = start_run(committed_repo, tmp_path, "while :; do sleep 0.1; done", setup="trap 'exit 0' TERM")
    reap[0].append(process)
    reap[1].append(child)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 0
    assert completed(only_op(committed_repo)[1])["outcome"] == "abandoned"


def test_a_run_killed_outright_leaves_a_dead_op_that_blocks_the_hook(committed_repo, tmp_path, reap, capsys):
    process, child = start_run(committed_repo, tmp_path, "exec sleep 120")
    reap[0].append(process)
    reap[1].append(child)
    op_id, _ = only_op(committed_repo)
    assert owners.owner_state(committed_repo, op_id) == "running"
    process.kill()
    process.wait()  # its command lives on, orphaned (killed by `reap`)
    assert owners.owner_state(committed_repo, op_id) == "dead"
    assert orphans_hook([]) == 1
    assert f"Op {op_id} (implementer: implement, started <1 min ago) is a dead orphan" in capsys.readouterr().out


def test_run_op_is_the_library_function_behind_it(committed_repo):
    result = run_op(committed_repo, "implementer", "implement", ["sh", "-c", "exit 5"], commit=False)
    assert (result.exit_code, result.outcome, result.evidence) == (5, "failed", "exit 5")
    assert result.completion.pending_reason == "--no-commit"
    assert not owners.OwnerStates(committed_repo).owner(result.op_id)  # forgotten at completion


COUNT_INTERRUPTS = """
import signal, sys, time
count = 0
def interrupted(number, frame):
    global count
    count += 1
signal.signal(signal.SIGINT, interrupted)
open(sys.argv[1] + ".tmp", "w").write("ready")
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while not count:
    time.sleep(0.01)
time.sleep(0.5)  # time for a second, forwarded, SIGINT to arrive
sys.exit(count)
"""


def test_ctrl_c_at_a_terminal_reaches_the_command_once(committed_repo, tmp_path):
    """The terminal signals the whole foreground process group, the command
    included: `run` must not forward that SIGINT a second time."""
    import pty

    ready = tmp_path / "ready"
    command = [sys.executable, "-m", "kitty_ops", *START, "--", sys.executable, "-c", COUNT_INTERRUPTS, str(ready)]
    pid, terminal = pty.fork()
    if pid == 0:  # the child: a new session, the pty its controlling terminal
        try:
            os.execv(sys.executable, command)
        finally:
            os._exit(127)
    try:
        wait_for(ready.exists)
        os.write(terminal, b"\x03")  # Ctrl-C
        output = b""
        while True:
            try:
                chunk = os.read(terminal, 4096)
            except OSError:  # EIO: the terminal's last user is gone
                break
            if not chunk:
                break
            output += chunk
        status = os.waitpid(pid, 0)[1]
    finally:
        os.close(terminal)
    assert os.waitstatus_to_exitcode(status) == 1, output  # the command saw one SIGINT, and exits 1
    event = completed(only_op(committed_repo)[1])
    assert (event["outcome"], event["evidence_ref"]) == ("abandoned", "interrupted by SIGINT; exit 1")


def test_outside_git_the_op_is_recorded_and_the_exit_code_passed_through(tmp_path):
    result = run("sh", "-c", "exit 4", repo=tmp_path)
    assert result.returncode == 4
    op_id, events = only_op(tmp_path)
    assert completed(events)["outcome"] == "failed"
    assert f"kitty-ops: Op {op_id} failed (exit 4), not committed" in result.stderr
    assert not (tmp_path / "kitty-ops" / ".owners" / f"{op_id}.json").exists()
