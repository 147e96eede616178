"""How kitty-ops runs git: never a prompt, never a process left behind, an
allowlisted environment with no pathspec switches, and git's refusal of another
user's repository said as git says it. Real git (and real ssh-keygen) throughout."""
from __future__ import annotations

import os
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kitty_ops.gitio import environment
from kitty_ops.gitio import git as kgit
from kitty_ops.hooks.orphans import main as orphans_main

from .conftest import git, open_op, record
from .test_precommit_e2e import guarded_repo, hook_repo  # noqa: F401  (fixtures)

PATHSPEC_OPTIONS = {
    "GIT_LITERAL_PATHSPECS": "--literal-pathspecs",
    "GIT_GLOB_PATHSPECS": "--glob-pathspecs",
    "GIT_NOGLOB_PATHSPECS": "--noglob-pathspecs",
    "GIT_ICASE_PATHSPECS": "--icase-pathspecs",
}


def in_terminal(argv: list[str], cwd: Path, env: dict[str, str], limit: float) -> tuple[int, str, float]:
    """Run `argv` with a pseudo-terminal as its controlling terminal: (exit code,
    what it wrote to the terminal, seconds until it exited). Fails when it has
    not exited within `limit` seconds (it is then killed)."""
    import pty

    started = time.monotonic()
    pid, fd = pty.fork()
    if pid == 0:  # the child: straight to exec
        try:
            os.chdir(cwd)
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    output = b""
    status = None
    try:
        while status is None:
            if time.monotonic() - started > limit:
                os.kill(pid, 9)
                os.waitpid(pid, 0)
                raise AssertionError(f"{argv[2:]} still ran after {limit}s; it wrote: {output!r}")
            ready, _, _ = select.select([fd], [], [], 0.05)
            if ready:
                try:
                    output += os.read(fd, 4096)
                except OSError:  # EIO: every end of the terminal is closed
                    pass
            done, code = os.waitpid(pid, os.WNOHANG)
            if done:
                status = code
        elapsed = time.monotonic() - started
        while select.select([fd], [], [], 0.2)[0]:  # what it wrote last
            try:
                data = os.read(fd, 4096)
            except OSError:
                break
            if not data:
                break
            output += data
    finally:
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace"), elapsed


def processes_mentioning(text: str) -> list[str]:
    """The command lines of live processes (not zombies) that mention `text`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                cmdline = handle.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if text in cmdline:
            found.append(f"{entry}: {cmdline}")
    return found


def terminal_env(**extra: str) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items()
           if name not in ("SSH_AUTH_SOCK", "SSH_AGENT_PID", "SSH_ASKPASS", "SSH_ASKPASS_REQUIRE", "DISPLAY")}
    return {**env, **extra}


# 1. Never a prompt, never a process left behind


@pytest.fixture
def ssh_signing_repo(committed_repo, tmp_path) -> Path:
    """A repository whose commits are signed with an ssh key that has a
    passphrase, and no ssh-agent to hold it."""
    if shutil.which("ssh-keygen") is None:
        pytest.skip("ssh-keygen is not installed (apt-get install openssh-client)")
    key = tmp_path / "signing-key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret", "-C", "kitty-ops-test", "-f", str(key)],
                   check=True, capture_output=True, stdin=subprocess.DEVNULL)
    git(committed_repo, "config", "gpg.format", "ssh")
    git(committed_repo, "config", "user.signingkey", str(key))
    git(committed_repo, "config", "commit.gpgsign", "true")
    return committed_repo


def test_ssh_signing_that_needs_a_passphrase_never_prompts_on_the_terminal(ssh_signing_repo, tmp_path):
    """`gpg.format=ssh` with a passphrase and no agent: `complete` printed
    `Enter passphrase:` on the agent's terminal and left `ssh-keygen -Y sign`
    reading it. Now ssh-keygen has no terminal: the commit fails at once, one
    line says why, and nothing is left running."""
    kitty_ops = [sys.executable, "-m", "kitty_ops"]
    env = terminal_env(KITTY_OPS_GIT_TIMEOUT="5")
    code, out, _ = in_terminal([*kitty_ops, "start", "--profile", "implementer", "--action", "implement"],
                               ssh_signing_repo, env, 60)
    assert code == 0, out
    op_id = out.split()[-1]
    code, out, seconds = in_terminal([*kitty_ops, "complete", op_id], ssh_signing_repo, env, 60)
    assert "Enter passphrase" not in out
    assert code == 0, out  # completed, the commit left pending
    assert seconds < 15, out
    causes = [line for line in out.splitlines() if "not committed" in line]
    assert causes and all("incorrect passphrase supplied to decrypt private key" in line for line in causes), out
    assert f"{op_id} done, not committed" in out
    time.sleep(0.2)
    assert processes_mentioning(str(tmp_path / "signing-key")) == []
    assert f"?? kitty-ops/{op_id}.jsonl" in git(ssh_signing_repo, "status", "--porcelain", "-uall")


def test_signing_through_ssh_agent_still_works(ssh_signing_repo, tmp_path):
    """The key in an ssh-agent: git signs as ever (SSH_AUTH_SOCK reaches it)."""
    if shutil.which("ssh-agent") is None or shutil.which("ssh-add") is None:
        pytest.skip("ssh-agent is not installed")
    socket = tmp_path / "agent.sock"
    agent = subprocess.Popen(["ssh-agent", "-D", "-a", str(socket)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not socket.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        askpass = tmp_path / "askpass"
        askpass.write_text("#!/bin/sh\necho secret\n")
        askpass.chmod(0o755)
        env = {**os.environ, "SSH_AUTH_SOCK": str(socket), "SSH_ASKPASS": str(askpass), "SSH_ASKPASS_REQUIRE": "force"}
        subprocess.run(["ssh-add", str(tmp_path / "signing-key")], env=env, check=True, capture_output=True,
                       stdin=subprocess.DEVNULL, timeout=30)
        op_id = open_op(ssh_signing_repo)
        result = subprocess.run([sys.executable, "-m", "kitty_ops", "complete", op_id], cwd=ssh_signing_repo,
                                env=terminal_env(SSH_AUTH_SOCK=str(socket)), capture_output=True, text=True,
                                timeout=120, stdin=subprocess.DEVNULL)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "not committed" not in result.stdout + result.stderr
        assert git(ssh_signing_repo, "log", "-1", "--format=%s").startswith("op(implementer)")
        assert "-----BEGIN SSH SIGNATURE-----" in git(ssh_signing_repo, "cat-file", "commit", "HEAD")
    finally:
        agent.kill()
        agent.wait()


def test_a_timeout_kills_everything_git_started_and_git_has_no_terminal(committed_repo, tmp_path):
    """A signing program that hangs with a child of its own: the timeout kills
    the whole process group. And git runs with no controlling terminal: the
    program cannot open /dev/tty though kitty-ops has one."""
    marks = tmp_path / "marks"
    marks.mkdir()
    signer = tmp_path / "hanging-signer"
    signer.write_text(
        "#!/bin/sh\n"
        f"if (: < /dev/tty) 2>/dev/null; then echo yes > {marks}/had-terminal; fi\n"
        f"sleep 300 &\necho $! > {marks}/child\necho $$ > {marks}/signer\nwait\n"
    )
    signer.chmod(0o755)
    git(committed_repo, "config", "gpg.format", "ssh")
    git(committed_repo, "config", "gpg.ssh.program", str(signer))
    git(committed_repo, "config", "user.signingkey", "key::ssh-ed25519 AAAA")
    tree = git(committed_repo, "rev-parse", "HEAD^{tree}")
    script = (
        "import sys\nfrom kitty_ops.gitio import git\n"
        "try:\n"
        f"    git.run(['commit-tree', '-S', '{tree}', '-m', 'x'], '.', timeout=2)\n"
        "except git.GitError as exc:\n    print(exc)\n"
    )
    _, out, seconds = in_terminal([sys.executable, "-c", script], committed_repo, dict(os.environ), 30)
    assert "git commit-tree timed out after 2s" in out
    assert seconds < 10
    assert not (marks / "had-terminal").exists()
    pids = [int((marks / name).read_text()) for name in ("signer", "child")]

    def gone(pid: int) -> bool:
        try:
            with open(f"/proc/{pid}/stat") as handle:
                return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    deadline = time.monotonic() + 5
    while not all(gone(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(gone(pid) for pid in pids)


# 2. The environment is an allowlist


def test_the_environment_given_to_git_is_an_allowlist(monkeypatch, committed_repo):
    for name, value in {
        "GIT_INDEX_FILE": "/elsewhere/index", "GIT_DIR": "/elsewhere/.git", "GIT_WORK_TREE": "/elsewhere",
        "GIT_PREFIX": "sub/", "GIT_REFLOG_ACTION": "rebase", "GIT_TRACE": "1", "GIT_QUARANTINE_PATH": "/q",
        "GIT_SSH_COMMAND": "ssh -o BatchMode=yes", "GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "a.b",
        "GIT_CONFIG_VALUE_0": "c", "GIT_ASKPASS": "/bin/token", "GIT_AUTHOR_NAME": "Someone",
        "GPG_TTY": "/dev/pts/9", "SSH_ASKPASS": "/usr/bin/ssh-askpass", **dict.fromkeys(PATHSPEC_OPTIONS, "1"),
    }.items():
        monkeypatch.setenv(name, value)
    repo = kgit.Repo(committed_repo, committed_repo / ".git", committed_repo / ".git")
    for env in (environment._env(None), kgit.repo_env(repo), kgit.clean_env()):
        for name in ("GIT_PREFIX", "GIT_REFLOG_ACTION", "GIT_TRACE", "GIT_QUARANTINE_PATH", "GPG_TTY",
                     *PATHSPEC_OPTIONS):
            assert name not in env
        for name in ("GIT_SSH_COMMAND", "GIT_CONFIG_COUNT", "GIT_CONFIG_KEY_0", "GIT_CONFIG_VALUE_0",
                     "GIT_ASKPASS", "GIT_AUTHOR_NAME", "GIT_CONFIG_GLOBAL", "HOME"):
            assert env[name] == os.environ[name]
        assert env["GIT_TERMINAL_PROMPT"] == "0" and env["SSH_ASKPASS_REQUIRE"] == "never"
    # a hook's calls read what git is committing; the Op commit names its repository
    assert environment._env(None)["GIT_INDEX_FILE"] == "/elsewhere/index"
    assert "GIT_INDEX_FILE" not in kgit.repo_env(repo)
    assert kgit.repo_env(repo)["GIT_DIR"] == str(committed_repo / ".git")
    monkeypatch.setenv("SSH_ASKPASS_REQUIRE", "force")  # a passphrase from a script, asked for
    assert kgit.clean_env()["SSH_ASKPASS_REQUIRE"] == "force"


def test_no_pathspec_variable_reaches_git_whatever_env_it_is_given(committed_repo):
    env = {**os.environ, "GIT_LITERAL_PATHSPECS": "1", "GIT_ICASE_PATHSPECS": "1"}
    shown = kgit.output(["-c", "alias.showenv=!env", "showenv"], committed_repo, env=env, replace_env=True)
    assert "PATHSPECS" not in shown
    shown = kgit.output(["-c", "alias.showenv=!env", "showenv"], committed_repo, env={"GIT_GLOB_PATHSPECS": "1"})
    assert "PATHSPECS" not in shown


# 3. Pathspec variables: `git --literal-pathspecs commit` (Magit) and the others


@pytest.mark.parametrize("variable", list(PATHSPEC_OPTIONS))
def test_the_orphans_hook_blocks_a_staged_stale_orphan_whatever_the_pathspec_switch(
        committed_repo, monkeypatch, capsys, variable):
    monkeypatch.setenv(variable, "1")
    (committed_repo / "work.txt").write_text("work\n")
    git(committed_repo, "add", "work.txt")
    assert orphans_main([]) == 0  # a clean commit passes
    op_id = open_op(committed_repo, hours_ago=30)
    git(committed_repo, "add", str(record(committed_repo, op_id).relative_to(committed_repo)))
    assert orphans_main([]) == 1
    assert f"Op {op_id} (implementer: implement, started 30 h ago) is staged but not completed." \
        in capsys.readouterr().out


@pytest.mark.parametrize("variable", list(PATHSPEC_OPTIONS))
def test_git_with_a_pathspec_switch_commit_is_still_guarded(guarded_repo, variable):  # noqa: F811
    def commit(message: str) -> subprocess.CompletedProcess:
        env = {name: value for name, value in os.environ.items() if name not in PATHSPEC_OPTIONS}
        return subprocess.run(["git", PATHSPEC_OPTIONS[variable], "commit", "-m", message], cwd=guarded_repo,
                               capture_output=True, text=True, timeout=900, env=env)

    (guarded_repo / "work.txt").write_text("work\n")
    git(guarded_repo, "add", "work.txt")
    clean = commit("clean")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    head = git(guarded_repo, "rev-parse", "HEAD")
    op_id = open_op(guarded_repo, hours_ago=30)
    git(guarded_repo, "add", "kitty-ops")
    blocked = commit("with an orphan")
    output = blocked.stdout + blocked.stderr
    assert blocked.returncode == 1, output
    assert f"Op {op_id} (implementer: implement, started 30 h ago) is staged but not completed." in output
    assert git(guarded_repo, "rev-parse", "HEAD") == head


@pytest.mark.parametrize("how", [["-a"], ["--", "RECORD"]], ids=["commit -a", "commit <path>"])
def test_the_hook_reads_the_index_git_is_committing(guarded_repo, how):  # noqa: F811
    """`git commit -a` and `git commit <path>` commit another index than
    .git/index (GIT_INDEX_FILE, given to the hook): the hook reads that one, under
    --literal-pathspecs too. The open record is in HEAD (committed past the hooks);
    what is committed now adds a line to it, still not completed."""
    import json

    op_id = open_op(guarded_repo, hours_ago=2)
    path = str(record(guarded_repo, op_id).relative_to(guarded_repo))
    git(guarded_repo, "add", "kitty-ops")
    git(guarded_repo, "commit", "-qm", "an open record", "--no-verify")
    line = {"event": "artifact_link", "invocation_id": op_id, "at": "2026-01-01T00:00:00+00:00",
            "kind": "artifact", "ref": "work.txt"}
    with record(guarded_repo, op_id).open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    assert git(guarded_repo, "diff", "--cached", "--name-only") == ""  # nothing staged in .git/index
    head = git(guarded_repo, "rev-parse", "HEAD")
    args = [path if arg == "RECORD" else arg for arg in how]
    result = subprocess.run(["git", "--literal-pathspecs", "commit", "-m", "work", *args], cwd=guarded_repo,
                            capture_output=True, text=True, timeout=900)
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert f"Op {op_id} (implementer: implement, started 2 h ago) is staged but not completed." in output
    assert git(guarded_repo, "rev-parse", "HEAD") == head


# 4. Dubious ownership


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving the repository to another user (chown) needs root")
def test_a_repository_git_refuses_is_not_taken_for_no_repository(committed_repo):
    op_id = open_op(committed_repo)
    subprocess.run(["chown", "-R", "nobody", str(committed_repo)], check=True)
    kitty_ops = [sys.executable, "-m", "kitty_ops"]
    env = {**os.environ}
    fix = f"git config --global --add safe.directory {committed_repo}"
    for args in (["complete", op_id], ["start", "--profile", "implementer", "--action", "implement"]):
        result = subprocess.run([*kitty_ops, *args], cwd=committed_repo, env=env, capture_output=True, text=True,
                                timeout=120, stdin=subprocess.DEVNULL)
        said = (result.stdout + result.stderr).strip().splitlines()
        assert result.returncode == 2, said
        assert len(said) == 1 and "detected dubious ownership" in said[0] and said[0].endswith(fix), said
    assert not (committed_repo / "kitty-ops" / ".owners").exists()
    assert "completed" not in record(committed_repo, op_id).read_text()
    subprocess.run(fix.split(), check=True)  # the fix named works
    result = subprocess.run([*kitty_ops, "complete", op_id, "--no-commit"], cwd=committed_repo, env=env,
                            capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert result.returncode == 0, result.stdout + result.stderr
    assert not (committed_repo / "kitty-ops" / ".owners").exists()
