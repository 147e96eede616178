"""`kitty-ops agents`: every agent session an Op, tested as the agents run it:
a long-lived fake agent (`tests/fake_agent.py`) runs the hooks installed in
its real configuration file through `sh -c`, with the recorded payloads of
`tests/data/agents/`, then exits or is killed."""
from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys

import pytest

from kitty_ops.doctor.ops import close_stale
from kitty_ops.hooks.orphans import main as orphans_hook
from kitty_ops.lifecycle import owners
from kitty_ops.record import read_record

from .conftest import AGENT_PAYLOADS, PROJECT_ROOT, git, kitty_ops_process, record, wait_for

CONFIGS = {"claude-code": ".claude/settings.json", "codex": ".codex/hooks.json", "gemini": ".gemini/settings.json",
           "cursor": ".cursor/hooks.json"}
# Per agent: its start, prompt, stop and end events (payload file names).
EVENTS = {
    "claude-code": ("SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"),
    "codex": ("SessionStart", "UserPromptSubmit", "Stop", "SessionEnd"),
    "gemini": ("SessionStart", "BeforeAgent", "AfterAgent", "SessionEnd"),
    "cursor": ("sessionStart", "beforeSubmitPrompt", "stop", "sessionEnd"),
}
OTHER_HOOKS = {
    "claude-code": {"permissions": {"allow": ["Bash(npm test)"]}, "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "./lint.sh"}]}],
        "SessionStart": [{"matcher": "startup", "hooks": [{"type": "command", "command": "echo hi"}]}]}},
    "codex": {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-send done", "timeout": 5}]}]}},
    "gemini": {"general": {"vimMode": True}, "hooks": {
        "BeforeTool": [{"matcher": "run_shell_command", "hooks": [{"type": "command", "command": "./check.sh"}]}]}},
    "cursor": {"version": 1, "hooks": {"afterFileEdit": [{"command": "./format.sh"}],
                                       "stop": [{"command": "./audit.sh"}]}},
}


def agents(*args: str, cwd, **kwargs) -> subprocess.CompletedProcess:
    return kitty_ops_process("agents", *args, cwd=cwd, **kwargs)


def ops(repo) -> list:
    """The Ops of `repo`, oldest first (ULIDs sort by time)."""
    folder = repo / "kitty-ops"
    names = sorted(path.name for path in folder.glob("*.jsonl") if len(path.stem) == 26) if folder.is_dir() else []
    return [read_record(folder / name) for name in names]


class Agent:
    """A fake agent process and the lines it answers."""

    def __init__(self, spawn, repo, name: str) -> None:
        self.repo, self.name = repo, name
        self.process = spawn(repo / CONFIGS[name], repo)

    def send(self, event: str, session: str = "s1", force: bool = False) -> str:
        payload = AGENT_PAYLOADS / self.name / f"{event}.json"
        hook_event = event.split("-")[0]
        self.process.stdin.write(f"{'FORCE ' if force else ''}{hook_event} {payload} {session}\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        for result in answer.split(" ; "):
            if result != "none":
                code, out, _ = result.split()
                assert (code, out) == ("0", "0"), f"{event}: exit {code}, {out} bytes on stdout"
        return answer

    def run(self, command: str) -> str:
        self.process.stdin.write(f"RUN {command}\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def exit(self) -> None:
        self.process.stdin.write("exit\n")
        self.process.stdin.flush()
        assert self.process.wait(30) == 0

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)


def installed(repo, name: str, *args: str) -> None:
    result = agents("install", name, *args, cwd=repo)
    assert result.returncode == 0, result.stderr


# --- install, uninstall, status ---

@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_install_keeps_other_hooks_twice_changes_nothing_and_uninstall_restores_exactly(committed_repo, name):
    path = committed_repo / CONFIGS[name]
    path.parent.mkdir()
    original = json.dumps(OTHER_HOOKS[name], indent=2) + "\n"
    path.write_text(original)
    installed(committed_repo, name)
    once = path.read_text()
    doc = json.loads(once)
    for event, entries in OTHER_HOOKS[name]["hooks"].items():
        assert doc["hooks"][event][: len(entries)] == entries  # theirs kept, first
    assert "kitty-ops agents hook " + name in once
    again = agents("install", name, cwd=committed_repo)
    assert again.returncode == 0 and "already in" in again.stdout and path.read_text() == once
    assert agents("uninstall", name, cwd=committed_repo).returncode == 0
    assert path.read_text() == original


def test_install_into_no_file_writes_the_documented_snippet_and_uninstall_removes_it(committed_repo):
    installed(committed_repo, "cursor")
    doc = json.loads((committed_repo / ".cursor/hooks.json").read_text())
    assert doc["version"] == 1
    assert doc["hooks"]["sessionEnd"] == [{"command": "kitty-ops agents hook cursor", "timeout": 30}]
    assert "stop" not in doc["hooks"]  # per session: a turn's end does nothing
    agents("uninstall", "cursor", cwd=committed_repo)
    assert not (committed_repo / ".cursor/hooks.json").exists()


def test_the_session_end_hook_declares_its_timeout(committed_repo):
    installed(committed_repo, "claude-code")
    installed(committed_repo, "gemini")
    claude = json.loads((committed_repo / ".claude/settings.json").read_text())
    assert claude["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"] == 30  # seconds, not the default 1.5
    gemini = json.loads((committed_repo / ".gemini/settings.json").read_text())
    assert gemini["hooks"]["SessionEnd"][0]["hooks"][0]["timeout"] == 30000  # milliseconds


def test_a_file_that_does_not_parse_is_left_untouched_with_one_line(committed_repo):
    path = committed_repo / ".claude" / "settings.json"
    path.parent.mkdir()
    path.write_text('{"hooks": {}, // a comment\n}')
    result = agents("install", "claude-code", cwd=committed_repo)
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "not valid JSON" in result.stderr
    assert path.read_text() == '{"hooks": {}, // a comment\n}'


def test_scopes_local_and_user(committed_repo, isolated_git):
    installed(committed_repo, "claude-code", "--scope", "local")
    assert (committed_repo / ".claude/settings.local.json").is_file()
    installed(committed_repo, "codex", "--scope", "user")
    assert (isolated_git / ".codex/hooks.json").is_file()
    result = agents("install", "codex", "--scope", "local", cwd=committed_repo)
    assert result.returncode == 2 and "no local configuration" in result.stderr
    status = json.loads(agents("status", "--json", cwd=committed_repo).stdout)
    assert {row["agent"]: row["installed"] for row in status}["claude-code"] == ["local"]
    assert {row["agent"]: row["installed"] for row in status}["codex"] == ["user"]


def test_aider_verifies_its_commits_and_uninstall_puts_the_line_back(committed_repo):
    path = committed_repo / ".aider.conf.yml"
    path.write_text("model: sonnet\ngit-commit-verify: false\n")
    result = agents("install", "aider", cwd=committed_repo)
    assert result.returncode == 0 and "kitty-ops run --profile aider --action session -- aider" in result.stdout
    assert "git-commit-verify: true" in path.read_text().splitlines()[1]
    assert agents("install", "aider", cwd=committed_repo).stdout.count("already in") == 1
    agents("uninstall", "aider", cwd=committed_repo)
    assert path.read_text() == "model: sonnet\ngit-commit-verify: false\n"
    path.unlink()
    installed(committed_repo, "aider")
    assert path.read_text() == "git-commit-verify: true  # kitty-ops agents install aider\n"
    agents("uninstall", "aider", cwd=committed_repo)
    assert not path.exists()


def test_status_says_when_a_hook_last_fired(committed_repo, fake_agent):
    installed(committed_repo, "claude-code")
    assert "never" in agents("status", cwd=committed_repo).stdout.splitlines()[1]
    agent = Agent(fake_agent, committed_repo, "claude-code")
    agent.send("SessionStart")
    line = agents("status", cwd=committed_repo).stdout.splitlines()[1]
    assert line.startswith("claude-code") and "project" in line and "(SessionStart)" in line
    assert (committed_repo / ".git/kitty-ops/agents/claude-code.last").is_file()


# --- the hook, as the agents run it ---

def test_one_op_per_session_owned_by_the_agent_and_committed_at_its_end(committed_repo, fake_agent):
    installed(committed_repo, "claude-code")
    agent = Agent(fake_agent, committed_repo, "claude-code")
    agent.send("SessionStart")
    (op,) = ops(committed_repo)
    assert op.status == "open" and op.started.session_id == "s1" and op.started.profile_id == "claude-code"
    assert owners.read_owner(owners.owners_dir(committed_repo), op.op_id)["pid"] == agent.process.pid
    for event in ("UserPromptSubmit", "SessionStart-resume", "SessionStart-compact", "SessionStart"):
        agent.send(event)
    agent.send("SubagentStop", force=True)  # a subagent's end never ends the session's Op
    assert [op.status for op in ops(committed_repo)] == ["open"]
    agent.send("SessionEnd")
    (op,) = ops(committed_repo)
    assert op.status == "done"
    assert git(committed_repo, "log", "-1", "--format=%s") == f"op(claude-code): session [{op.op_id[:8]}]"
    agent.exit()


def test_clear_completes_the_sessions_op_and_opens_the_next(committed_repo, fake_agent):
    installed(committed_repo, "claude-code")
    agent = Agent(fake_agent, committed_repo, "claude-code")
    agent.send("SessionStart", "s1")
    agent.send("SessionEnd-clear", "s1")  # Claude Code ends the old session, then starts a new one
    agent.send("SessionStart-clear", "s2")
    first, second = ops(committed_repo)
    assert (first.status, first.started.session_id) == ("done", "s1")
    assert (second.status, second.started.session_id) == ("open", "s2")


def test_clear_without_a_session_end_still_completes_the_last_op(committed_repo, fake_agent):
    installed(committed_repo, "codex")
    agent = Agent(fake_agent, committed_repo, "codex")
    agent.send("SessionStart", "s1")
    agent.send("SessionStart-clear", "s2")
    assert [(op.status, op.started.session_id) for op in ops(committed_repo)] == [("done", "s1"), ("open", "s2")]


def test_a_killed_agent_is_an_orphan_at_once_and_doctor_closes_it(committed_repo, fake_agent, capsys):
    installed(committed_repo, "claude-code")
    git(committed_repo, "add", ".claude")
    agent = Agent(fake_agent, committed_repo, "claude-code")
    agent.send("SessionStart")
    (op,) = ops(committed_repo)
    agent.kill()  # no SessionEnd
    assert owners.owner_state(committed_repo, op.op_id) == owners.DEAD
    assert orphans_hook([]) != 0
    assert "dead orphan" in capsys.readouterr().out
    close_stale(committed_repo)
    (op,) = ops(committed_repo)
    assert op.status == "abandoned" and op.completed.closed_by == "doctor_sweep"


def test_resume_in_a_new_process_adopts_the_sessions_open_op(committed_repo, fake_agent):
    installed(committed_repo, "claude-code")
    first = Agent(fake_agent, committed_repo, "claude-code")
    first.send("SessionStart")
    first.kill()
    second = Agent(fake_agent, committed_repo, "claude-code")  # `claude --resume`
    second.send("SessionStart-resume")
    (op,) = ops(committed_repo)
    assert op.status == "open" and owners.owner_state(committed_repo, op.op_id) == owners.RUNNING
    assert owners.read_owner(owners.owners_dir(committed_repo), op.op_id)["pid"] == second.process.pid
    second.send("SessionEnd")
    assert [op.status for op in ops(committed_repo)] == ["done"]
    third = Agent(fake_agent, committed_repo, "claude-code")  # resumed after a clean end: new work, a new Op
    third.send("SessionStart-resume")
    assert [op.status for op in ops(committed_repo)] == ["done", "open"]


@pytest.mark.parametrize("name", sorted(EVENTS))
def test_each_agents_payloads_open_the_op_at_the_first_prompt_and_end_it(committed_repo, fake_agent, name):
    start, prompt, stop, end = EVENTS[name]
    installed(committed_repo, name)
    agent = Agent(fake_agent, committed_repo, name)
    agent.send(prompt)  # no session start seen: the first prompt opens the Op, its text the request
    agent.send(start)
    agent.send(stop)
    (op,) = ops(committed_repo)
    assert op.status == "open" and op.started.request_text and op.started.session_id == "s1"
    agent.send(end)
    assert [op.status for op in ops(committed_repo)] == ["done"]


def test_an_abnormal_end_is_abandoned(committed_repo, fake_agent):
    installed(committed_repo, "cursor")
    agent = Agent(fake_agent, committed_repo, "cursor")
    agent.send("sessionStart")
    agent.send("sessionEnd-error")
    assert [op.status for op in ops(committed_repo)] == ["abandoned"]


def test_per_turn_each_prompt_is_an_op_to_its_stop(committed_repo, fake_agent):
    installed(committed_repo, "claude-code", "--per", "turn")
    agent = Agent(fake_agent, committed_repo, "claude-code")
    agent.send("SessionStart")
    assert ops(committed_repo) == []
    costs = []
    for _ in range(3):
        agent.send("UserPromptSubmit")
        agent.send("SubagentStop", force=True)
        assert [op.status for op in ops(committed_repo)].count("open") >= 1
        costs.append(float(agent.send("Stop").split()[2]))
    wait_for(lambda: [op.status for op in ops(committed_repo)] == ["done"] * 3)  # completed behind the agent
    assert ops(committed_repo)[0].started.request_text == "Fix the failing test in test_app.py"
    wait_for(lambda: git(committed_repo, "status", "--porcelain", "--", "kitty-ops") == "")  # and committed
    assert statistics.median(costs) <= 0.25, costs  # the target is 50 ms; this box is shared and loaded


def test_a_bad_event_is_one_line_on_stderr_exit_0_and_nothing_on_stdout(committed_repo):
    for stdin in (b"not json", b'{"hook_event_name": "SessionStart"}', b""):
        result = kitty_ops_process("agents", "hook", "claude-code", cwd=committed_repo, input=stdin, text=False)
        assert (result.returncode, result.stdout) == (0, b"")
        assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith(b"kitty-ops agents hook claude-code:")
    assert ops(committed_repo) == []


def test_the_prompt_in_the_request_is_redacted(committed_repo):
    payload = {"hook_event_name": "UserPromptSubmit", "session_id": "s9", "cwd": str(committed_repo),
               "prompt": "deploy with AKIAZ7VRSQ5TLQ3MJXKP please"}
    result = kitty_ops_process("agents", "hook", "claude-code", cwd=committed_repo, input=json.dumps(payload))
    assert result.returncode == 0 and result.stdout == ""
    (op,) = ops(committed_repo)
    assert "AKIAZ7VRSQ5TLQ3MJXKP" not in record(committed_repo, op.op_id).read_text()


# --- commits link to their Op ---

def test_an_agents_commit_carries_its_op_and_a_persons_does_not(committed_repo, fake_agent):
    hook = committed_repo / ".git" / "hooks" / "prepare-commit-msg"
    hook.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{PROJECT_ROOT / "bin" / "kitty-ops-link"}" "$@"\n')
    hook.chmod(0o755)
    installed(committed_repo, "claude-code")
    agent = Agent(fake_agent, committed_repo, "claude-code")
    agent.send("SessionStart")
    (op,) = ops(committed_repo)
    assert agent.run("echo a > a.txt && git add a.txt && git commit -qm 'Add a'").startswith("0 ")
    assert git(committed_repo, "log", "-1", "--format=%(trailers:key=Op-Id,valueonly)").strip() == op.op_id
    (committed_repo / "b.txt").write_text("b\n")
    git(committed_repo, "add", "b.txt")
    git(committed_repo, "commit", "-qm", "Add b")  # the person's own
    assert "Op-Id" not in git(committed_repo, "log", "-1", "--format=%B")
    shown = json.loads(kitty_ops_process("show", op.op_id, "--json", cwd=committed_repo).stdout)
    assert [commit["subject"] for commit in shown["linked_commits"]] == ["Add a"]
    assert "Add a" in kitty_ops_process("show", op.op_id, cwd=committed_repo).stdout


def test_link_names_the_one_running_op_above_and_none_when_there_are_two(committed_repo, tmp_path):
    from kitty_ops.hooks import link

    def start() -> str:
        started = kitty_ops_process("start", "--profile", "p", "--action", "a", "--owner-pid", str(os.getppid()),
                                    cwd=committed_repo)  # owned by a process above this one
        assert started.returncode == 0, started.stderr
        return started.stdout.strip()

    first = start()
    assert link.running_op_above() == first
    start()
    assert link.running_op_above() is None  # two running Ops above: which one is not known
    message = tmp_path / "MSG"
    message.write_text("Subject\n")
    assert link.main([str(message)]) == 0 and message.read_text() == "Subject\n"
