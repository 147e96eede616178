"""`kitty-ops run -- COMMAND`: an Op around a command.

The Op is owned by the running kitty-ops process itself, so a `run` killed
outright leaves an Op that is dead at once. COMMAND inherits the terminal
(stdin, stdout, stderr, the process group) and finds its Op id in
`KITTY_OPS_OP_ID`. Its exit decides the outcome: 0 `done`, anything else
`failed` (the exit code in `evidence_ref`), and `abandoned` when `run` was
interrupted (SIGINT, SIGTERM, SIGHUP): the signal is forwarded to COMMAND
first, and `run` waits for it to end. `run` then completes the Op, with its
Op commit, and exits with COMMAND's own code (128 + N for death by signal N).
"""
from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from kitty_ops import settings
from kitty_ops.errors import KittyOpsError
from kitty_ops.lifecycle import changes
from kitty_ops.lifecycle.executor import Completion, complete_invocation, start_invocation
from kitty_ops.system.warn import warn

EXIT_CANNOT_RUN = 127
INTERRUPTS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_SI_KERNEL = 0x80  # Linux: sent by the kernel (the terminal's Ctrl-C goes to the whole process group)


class RunResult:
    """What `run_op` did: the Op, how COMMAND ended, and the completion."""

    __slots__ = ("op_id", "exit_code", "outcome", "evidence", "interrupted_by", "completion", "problem")

    def __init__(self, op_id: str) -> None:
        self.op_id = op_id
        self.exit_code = 0  # what `run` exits with: COMMAND's code, 128 + N for signal N, 127
        self.outcome = "done"
        self.evidence = ""
        self.interrupted_by: int | None = None  # the signal `run` received
        self.completion: Completion | None = None
        self.problem: str | None = None  # COMMAND could not start, or the Op could not be completed


def signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def exit_code_of(returncode: int) -> int:
    """A shell's view of how a child ended: its code, or 128 + N for signal N."""
    return 128 - returncode if returncode < 0 else returncode


def run_op(
    repo_root: Path | str,
    profile_id: str,
    action: str,
    command: Sequence[str],
    *,
    artifacts_changed: bool = False,
    commit: bool = True,
    **optional: object,
) -> RunResult:
    """Start an Op owned by this process, run `command`, complete the Op by how it ended."""
    before = changes.snapshot(repo_root) if artifacts_changed else None
    started = start_invocation(repo_root, profile_id, action, owner_pid=os.getpid(), **optional)
    result = RunResult(started["invocation_id"])
    env = {**os.environ, settings.OP_ID: result.op_id}
    with _interrupts_held() as held:
        try:
            child = subprocess.Popen(list(command), env=env, close_fds=False, preexec_fn=held.preexec)
        except OSError as exc:
            result.exit_code, result.outcome = EXIT_CANNOT_RUN, "failed"
            result.problem = f"cannot run {command[0]!r}: {exc.strerror or exc}"
            result.evidence = f"exit {EXIT_CANNOT_RUN} ({result.problem})"
        else:
            result.interrupted_by = held.wait(child)
            _judge(result, child.returncode)
        artifacts = _changed_files(repo_root, before, result.op_id) if before is not None else []
        try:
            result.completion = complete_invocation(
                repo_root, result.op_id, result.outcome, evidence_ref=result.evidence,
                artifacts=artifacts, commit=commit,
            )
        except (KittyOpsError, OSError) as exc:
            result.problem = f"Op {result.op_id} could not be completed: {exc}"
            result.exit_code = result.exit_code or 1
    return result


def _judge(result: RunResult, returncode: int) -> None:
    result.exit_code = exit_code_of(returncode)
    how = f"exit {result.exit_code}" + (f" (killed by {signal_name(-returncode)})" if returncode < 0 else "")
    if result.interrupted_by is not None:
        result.outcome = "abandoned"
        result.evidence = f"interrupted by {signal_name(result.interrupted_by)}; {how}"
    else:
        result.outcome = "done" if returncode == 0 else "failed"
        result.evidence = how


def _changed_files(repo_root: Path | str, before: changes.Snapshot, op_id: str) -> list[str]:
    try:
        return changes.changed_since(repo_root, before)
    except KittyOpsError as exc:
        warn("Op %s: could not list the files the command changed: %s", op_id, exc)
        return []


class _Held:
    """SIGINT, SIGTERM and SIGHUP held for `run` while COMMAND runs and the Op completes."""

    def __init__(self, previous_mask: set[int] | None) -> None:
        self.previous_mask = previous_mask  # None: no sigwaitinfo here, handlers instead
        self.received: int | None = None
        self.child: subprocess.Popen[bytes] | None = None

    @property
    def preexec(self) -> Callable[[], None] | None:
        return self._release_in_child if self.previous_mask is not None else None

    def _release_in_child(self) -> None:
        """In the child, before exec: the signal mask of the caller of `run`
        (exec itself resets handlers, and keeps what the caller ignored)."""
        signal.pthread_sigmask(signal.SIG_SETMASK, self.previous_mask)  # type: ignore[arg-type]  # set: see preexec

    def _interrupted(self, number: int, from_terminal: bool) -> None:
        self.received = self.received or number
        child = self.child
        if child is None or child.poll() is not None:
            return
        if from_terminal and _same_process_group(child.pid):
            return  # the terminal signalled the whole foreground group, the child too
        child.send_signal(number)

    def wait(self, child: subprocess.Popen[bytes]) -> int | None:
        """Wait for `child` to end, forwarding interrupts; the first one received."""
        self.child = child
        if self.previous_mask is None:
            child.wait()
            return self.received
        watched = {*INTERRUPTS, signal.SIGCHLD}
        while child.poll() is None:
            info = signal.sigtimedwait(watched, 1.0)  # the timeout only guards against a lost SIGCHLD
            if info is not None and info.si_signo in INTERRUPTS:
                self._interrupted(info.si_signo, from_terminal=info.si_code == _SI_KERNEL)
        self.drain()
        return self.received

    def drain(self) -> None:
        """Take the interrupts still pending (they came with or after the child's end)."""
        while (info := signal.sigtimedwait(set(INTERRUPTS), 0)) is not None:
            self.received = self.received or info.si_signo

    def _handler(self, number: int, frame: object) -> None:
        self._interrupted(number, from_terminal=False)


def _same_process_group(pid: int) -> bool:
    try:
        return os.getpgid(pid) == os.getpgrp()
    except OSError:
        return False


@contextlib.contextmanager
def _interrupts_held() -> Iterator[_Held]:
    """Block the interrupts (and SIGCHLD) and wait for them with sigtimedwait where
    the system has it (it tells a kill from the terminal's Ctrl-C); elsewhere,
    handlers that forward every interrupt. Interrupts that arrive while the Op
    completes are taken, not acted on: the Op commit is never cut short."""
    if hasattr(signal, "sigtimedwait"):
        previous_mask = signal.pthread_sigmask(signal.SIG_BLOCK, {*INTERRUPTS, signal.SIGCHLD})
        held = _Held(previous_mask)
        try:
            yield held
        finally:
            held.drain()
            signal.pthread_sigmask(signal.SIG_SETMASK, previous_mask)
        return
    held = _Held(None)
    previous = {number: signal.signal(number, held._handler) for number in INTERRUPTS}
    try:
        yield held
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
