"""Running git: each call in its own session, with no terminal, stdin closed,
the environment of `kitty_ops.gitio.environment`, and a timeout that ends git
with everything it started, so that nothing kitty-ops does can hang on git.

The pre-commit hooks import this module on every commit, so it imports only
`os` and `select` up front; `subprocess` and `pathlib` are imported where they
are used (together they cost more than the hook's own work).
"""
from __future__ import annotations

import os
import select
import time

from kitty_ops import settings
from kitty_ops.errors import KittyOpsError
from kitty_ops.gitio.environment import PATHSPEC_VARIABLES, _env

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess
    from pathlib import Path
    from typing import Any

GIT_TIMEOUT_SECONDS = settings.git_timeout()


class GitError(KittyOpsError):
    """git failed, or could not be run; the message is one line."""

    def __init__(self, message: str, stderr: str = "") -> None:
        super().__init__(message)
        self.stderr = stderr


class Result:
    """What a finished git call left: its exit code and output."""

    __slots__ = ("returncode", "stdout", "stderr")

    def __init__(self, returncode: int, stdout: bytes, stderr: bytes) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr


def run(
    args: list[str],
    cwd: Path | str | os.PathLike[str],
    *,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
    timeout: float | None = None,
    replace_env: bool = False,
) -> Result:
    """Run `git <args>` in `cwd`; GitError on failure (when `check`) or timeout.

    `env` adds to the environment, or is the whole of it with `replace_env`.
    """
    running = start(args, cwd, env if replace_env and env is not None else _env(env), input=input)
    out, err, code = _wait(running, timeout or GIT_TIMEOUT_SECONDS)
    if check and code != 0:
        raise failure(args[0], err)
    return Result(code, out, err)


class Running:
    """A git process started by `start`, not yet waited for."""

    __slots__ = ("name", "pid", "stdout", "stderr", "stdin", "input", "popen")

    def __init__(self, name: str) -> None:
        self.name = name
        self.pid = 0
        self.stdout = self.stderr = self.stdin = -1
        self.input = b""
        self.popen: subprocess.Popen[bytes] | None = None


def start(
    args: list[str], cwd: Path | str | os.PathLike[str] = ".", env: dict[str, str] | None = None,
    input: bytes | None = None,
) -> Running:
    """Start `git <args>` without waiting, to run several queries side by side;
    `input` is fed to its standard input (else it reads nothing). `env` is the
    whole environment (default: `_env`); the pathspec variables never pass.

    git runs in a session of its own: no controlling terminal, so neither it
    nor what it starts (ssh, ssh-keygen, gpg, a credential helper) can prompt
    on the user's terminal or be stopped by it, and a timeout kills the whole
    process group. Spawned with `os.posix_spawnp` where there is one: every git
    call of the hooks and of the Op commit goes through here, and importing
    `subprocess` costs as much as a git call.
    """
    running = Running(args[0])
    command = ["git", "-C", os.fspath(cwd), *args]
    if env is None:
        env = _env(None)
    elif any(name in env for name in PATHSPEC_VARIABLES):
        env = {name: value for name, value in env.items() if name not in PATHSPEC_VARIABLES}
    if not hasattr(os, "posix_spawnp"):  # Windows
        return _popen(running, command, env, input)
    out_read, out_write = os.pipe()
    err_read, err_write = os.pipe()
    in_read = -1
    if input is None:
        actions: list[tuple[Any, ...]] = [(os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0)]
    else:
        in_read, running.stdin = os.pipe()
        actions = [(os.POSIX_SPAWN_DUP2, in_read, 0)]
        running.input = input
    actions += [(os.POSIX_SPAWN_DUP2, out_write, 1), (os.POSIX_SPAWN_DUP2, err_write, 2)]
    try:
        running.pid = os.posix_spawnp("git", command, env, file_actions=actions, setsid=True)
    except (OSError, NotImplementedError) as exc:
        for fd in (out_read, err_read, running.stdin):
            if fd >= 0:
                os.close(fd)
        if isinstance(exc, NotImplementedError):  # no POSIX_SPAWN_SETSID here
            running.stdin = -1
            return _popen(running, command, env, input)
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    finally:
        for fd in (out_write, err_write, in_read):
            if fd >= 0:
                os.close(fd)
    running.stdout, running.stderr = out_read, err_read
    return running


def _popen(running: Running, command: list[str], env: dict[str, str], input: bytes | None) -> Running:
    """`start` through subprocess, where posix_spawn cannot start a session."""
    import subprocess

    pipe = subprocess.PIPE
    try:
        running.popen = subprocess.Popen(
            command, stdin=subprocess.DEVNULL if input is None else pipe, stdout=pipe, stderr=pipe,
            env=env, start_new_session=hasattr(os, "setsid"),
        )
    except OSError as exc:
        raise GitError(f"cannot run git: {exc.strerror or exc}") from None
    running.pid = running.popen.pid
    running.input = input or b""
    return running


def _kill(pid: int) -> None:
    """Kill git and everything it started: its process group (`start` made it
    the leader of a session of its own), else git alone."""
    try:
        os.killpg(pid, 9)  # SIGKILL; `signal` is not imported for this
        return
    except (AttributeError, ProcessLookupError, PermissionError):
        pass
    try:
        os.kill(pid, 9)
    except OSError:
        pass


def finish(running: Running, check: bool = True) -> bytes:
    """The output of a git process from `start`; GitError when it failed (when `check`)."""
    out, err, code = _wait(running, GIT_TIMEOUT_SECONDS)
    if code != 0 and check:
        raise failure(running.name, err)
    return out


def _wait(running: Running, timeout: float) -> tuple[bytes, bytes, int]:
    """(stdout, stderr, exit code) of a started git process, within `timeout`."""
    if running.popen is None:
        return _collect(running, timeout)
    import subprocess

    try:
        out, err = running.popen.communicate(running.input or None, timeout=timeout)
    except BaseException as exc:  # the timeout, or an interrupt: nothing is left running
        _kill(running.popen.pid)
        running.popen.wait()
        if isinstance(exc, subprocess.TimeoutExpired):
            raise GitError(f"git {running.name} timed out after {timeout:g}s") from None
        raise
    return out, err, running.popen.returncode


def _collect(running: Running, timeout: float) -> tuple[bytes, bytes, int]:
    """Feed the input, read both pipes to the end (within the timeout), then
    reap the process. On timeout, or an interrupt, its whole process group is
    killed and git reaped: nothing it started is left behind."""
    chunks: dict[int, list[bytes]] = {running.stdout: [], running.stderr: []}
    open_fds = list(chunks)
    pending = memoryview(running.input)
    writing = [running.stdin] if running.stdin >= 0 else []
    if writing:
        os.set_blocking(running.stdin, False)
        if not pending:
            os.close(running.stdin)
            writing = []
    deadline = time.monotonic() + timeout
    try:
        while open_fds or writing:
            remaining = deadline - time.monotonic()
            ready = select.select(open_fds, writing, [], remaining) if remaining > 0 else ([], [], [])
            if not ready[0] and not ready[1]:
                raise GitError(f"git {running.name} timed out after {timeout:g}s")
            if ready[1]:
                try:
                    pending = pending[os.write(running.stdin, pending[: 1 << 16]):]
                except BrokenPipeError:
                    pending = pending[:0]  # git stopped reading: its exit code says why
                if not pending:
                    os.close(running.stdin)
                    writing = []
            for fd in ready[0]:
                data = os.read(fd, 1 << 16)
                if data:
                    chunks[fd].append(data)
                else:
                    open_fds.remove(fd)
    except BaseException:
        _kill(running.pid)
        os.waitpid(running.pid, 0)
        raise
    finally:
        os.close(running.stdout)
        os.close(running.stderr)
        if writing:
            os.close(running.stdin)
    status = os.waitpid(running.pid, 0)[1]
    return b"".join(chunks[running.stdout]), b"".join(chunks[running.stderr]), os.waitstatus_to_exitcode(status)


def split_z(raw: bytes) -> list[str]:
    """The entries of NUL-separated git output (`-z`)."""
    return [entry for entry in raw.decode(errors="surrogateescape").split("\0") if entry]


def output(args: list[str], cwd: Path | str, **kwargs: Any) -> str:
    return run(args, cwd, **kwargs).stdout.decode(errors="surrogateescape").strip()


_PROMPT = "Enter passphrase"  # ssh's and ssh-keygen's: "Enter passphrase: ", "Enter passphrase for key '<path>': "


def failure(name: str, err: bytes) -> GitError:
    """The GitError of a failed `git <name>`: the last line git wrote on stderr.

    ssh and ssh-keygen (ssh signing) write their passphrase prompt to stderr when
    they have no terminal to ask on, and read an empty answer: the prompt is cut
    out of what git wrote, and the message says what was wrong instead."""
    stderr = err.decode(errors="replace").strip()
    hint = ""
    if _PROMPT in stderr:
        stderr = _without_prompts(stderr)
        hint = (" (the ssh key needs its passphrase, and kitty-ops never lets git ask for one:"
                " add the key to ssh-agent with ssh-add, then retry)")
    return GitError(f"git {name} failed: {last_line(stderr)}{hint}", stderr)


def _without_prompts(text: str) -> str:
    lines = []
    for line in text.split("\n"):
        while _PROMPT in line:
            start = line.index(_PROMPT)
            end = line.find(": ", start)
            line = line[:start] + (line[end + 2:] if end >= 0 else "")
        lines.append(line)
    return "\n".join(lines).strip()


def last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no message"

