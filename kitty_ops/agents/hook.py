"""`kitty-ops agents hook <agent> [--per session|turn]`: what the installed
hooks run. It reads the agent's event (JSON on stdin) and keeps one Op per
agent session (or, `--per turn`, one per prompt):

- session start: opens the session's Op, owned by the agent's own process
  (the nearest ancestor that is not a shell), its session id in the record;
  a `resume`, `compact` or second start of a session whose Op is open opens
  nothing (a new agent process resuming it becomes its owner); `clear`
  completes the Op of that agent process and opens the next;
- a prompt: opens the Op when none is open (the prompt is its request); per
  turn, each prompt opens its own;
- stop (per turn): completes the turn's Op in the background (a detached
  `kitty-ops complete`, which makes its Op commit);
- a subagent's stop: nothing;
- session end: completes the Op, `done` (`abandoned` when the agent reports
  an abnormal end), and makes its Op commit before returning.

An agent killed without its session end leaves its Op open with a dead
owner: an orphan at once (the orphans hook blocks, `doctor ops --close-stale`
closes it). It never writes to stdout (agents give a hook's output to the
model) and never blocks the agent: a failure is one line on stderr, exit 0.
"""
from __future__ import annotations

import os
import sys

from kitty_ops.agents import sessions
from kitty_ops.agents.spec import agent

TYPE_CHECKING = False
if TYPE_CHECKING:
    from kitty_ops.agents.spec import Event

MAX_REQUEST_CHARS = 4000
USAGE = "usage: kitty-ops agents hook AGENT [--per session|turn]"


def main(argv: list[str]) -> int:
    """Run the hook; always 0 (a failure is one line on stderr)."""
    name = argv[0] if argv else "?"
    saved = _silence_stdout()
    try:
        from kitty_ops.settings import check_environment

        check_environment()
        per = _per(argv)
        handle(name, per, sys.stdin.buffer.read())
    except Exception as exc:  # never block the agent
        from kitty_ops.settings import debug_enabled

        if debug_enabled():
            raise
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"kitty-ops agents hook {name}: {message}", file=sys.stderr)
    finally:
        _restore_stdout(saved)
    return 0


def _per(argv: list[str]) -> str:
    rest = argv[1:]
    if not argv or argv[0].startswith("-") or rest not in ([], ["--per", "session"], ["--per", "turn"],
                                                           ["--per=session"], ["--per=turn"]):
        raise ValueError(USAGE)
    return "turn" if "turn" in " ".join(rest) else "session"


def _silence_stdout() -> int | None:
    """Point fd 1 at /dev/null while the hook works (git and a user's hook
    included): whatever reaches the agent's stdout reaches its model."""
    try:
        sys.stdout.flush()
        saved = os.dup(1)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.close(null)
        return saved
    except (OSError, ValueError):
        return None


def _restore_stdout(saved: int | None) -> None:
    if saved is not None:
        os.dup2(saved, 1)
        os.close(saved)


def handle(name: str, per: str, data: bytes) -> None:
    from kitty_ops.format import jsontext
    from kitty_ops.gitio import git

    spec = agent(name)
    if spec.event is None:
        raise ValueError(f"{name} has no hooks")
    payload = jsontext.loads(data) if data.strip() else None
    if not isinstance(payload, dict):
        raise ValueError("the event on stdin is not a JSON object")
    event = spec.event(payload)
    cwd = event.cwd if event.cwd and os.path.isdir(event.cwd) else os.getcwd()
    repo = git.find_repo(cwd)
    if repo is None:
        return  # not in a repository: nothing to record
    directory = sessions.state_dir(repo.common_path)
    sessions.stamp(directory, name, event.name)
    if event.kind in ("other", "subagent_stop"):
        return  # a subagent's end never ends the session's Op
    if not event.session_id:
        raise ValueError(f"{event.name or 'event'} without a session id")
    Session(name, per, repo.top, directory, event).react()


class Session:
    """One agent session's Ops, as one hook call sees them."""

    def __init__(self, name: str, per: str, top: str, directory: str, event: Event) -> None:
        self.name, self.per, self.top, self.directory, self.event = name, per, top, directory, event
        self.session_id: str = event.session_id or ""
        entry = sessions.read(directory, name, self.session_id)
        self.op_id = entry["op_id"] if entry and is_open(top, entry["op_id"]) else None
        self.owner_pid = entry.get("owner_pid") if entry else None

    def react(self) -> None:
        kind, source = self.event.kind, self.event.source
        if kind == "start" and source == "clear":
            self.close_others()
            if self.op_id:
                self.complete("done")
            if self.per == "session":
                self.open()
        elif kind == "start":
            if self.op_id:
                self.adopt()
            elif self.per == "session":
                self.open()
        elif kind == "prompt":
            if self.op_id and self.per == "turn":
                self.complete("done", background=True)  # the last turn's stop never came
            if not self.op_id:
                self.open(self.event.prompt)
        elif kind == "stop" and self.per == "turn" and self.op_id:
            self.complete("done", background=True)
        elif kind == "end" and self.op_id:
            self.complete("abandoned" if self.event.abnormal else "done")
        if kind == "end":
            sessions.forget(self.directory, self.name, self.session_id)

    def open(self, prompt: str | None = None) -> None:
        from kitty_ops.lifecycle.executor import start_invocation
        from kitty_ops.system.processes import nearest_non_shell_ancestor

        owner = nearest_non_shell_ancestor() or 0
        started = start_invocation(
            self.top, self.name, "turn" if self.per == "turn" else "session", owner_pid=owner, actor=self.name,
            session_id=self.session_id, request_text=request_text(prompt), model_id=self.event.model,
        )
        self.op_id = started["invocation_id"]
        sessions.write(self.directory, self.name, self.session_id, self.op_id, owner)

    def adopt(self) -> None:
        """A resumed session: its open Op is now owned by the agent process that resumed it."""
        from kitty_ops.lifecycle import owners
        from kitty_ops.system.processes import nearest_non_shell_ancestor

        owner = nearest_non_shell_ancestor() or 0
        if self.op_id and owner and owner != self.owner_pid:
            owners.record_owner(self.top, self.op_id, owner)
            sessions.write(self.directory, self.name, self.session_id, self.op_id, owner)

    def close_others(self) -> None:
        """`clear` started a new session in the same agent process: the Ops of
        its other sessions are done."""
        from kitty_ops.system.processes import nearest_non_shell_ancestor

        owner = nearest_non_shell_ancestor()
        for entry in list(sessions.entries(self.directory, self.name)):
            if entry["session_id"] != self.session_id and owner and entry.get("owner_pid") == owner:
                if is_open(self.top, entry["op_id"]):
                    complete(self.top, entry["op_id"], "done")
                sessions.forget(self.directory, self.name, entry["session_id"])

    def complete(self, outcome: str, background: bool = False) -> None:
        if self.op_id:
            complete(self.top, self.op_id, outcome, background)
        self.op_id = None
        sessions.forget(self.directory, self.name, self.session_id)


def is_open(top: str, op_id: str) -> bool:
    from kitty_ops.format.layout import EVENTS_DIR
    from kitty_ops.format.scan import read_scan

    scan = read_scan(os.path.join(top, EVENTS_DIR, f"{op_id}.jsonl"), op_id)
    return scan.started is not None and scan.completed is None


def complete(top: str, op_id: str, outcome: str, background: bool = False) -> None:
    """Complete `op_id` and make its Op commit; `background`: by a detached
    `kitty-ops complete`, so that a turn's end costs the agent no more than
    starting it (a crash of the agent meanwhile does not stop it)."""
    if background:
        spawn_detached(["complete", op_id, "--outcome", outcome, "--repo", top])
        return
    from kitty_ops.errors import AlreadyCompleted
    from kitty_ops.lifecycle.executor import complete_invocation

    try:
        complete_invocation(top, op_id, outcome)
    except AlreadyCompleted:
        pass  # closed meanwhile (by doctor, or by hand)


def spawn_detached(args: list[str]) -> None:
    """Start `kitty-ops ARGS` in a session of its own, no terminal, no pipes
    of the agent's, not waited for (it is reparented when this hook exits)."""
    null = os.devnull
    actions = [(os.POSIX_SPAWN_OPEN, 0, null, os.O_RDONLY, 0), (os.POSIX_SPAWN_OPEN, 1, null, os.O_WRONLY, 0),
               (os.POSIX_SPAWN_OPEN, 2, null, os.O_WRONLY, 0)]
    argv = [sys.executable, "-m", "kitty_ops", *args]
    os.posix_spawn(sys.executable, argv, dict(os.environ), file_actions=actions, setsid=True)


def request_text(prompt: str | None) -> str | None:
    """The first prompt as the Op's request, cut to MAX_REQUEST_CHARS. Its
    secrets are redacted where every started line is, by the writer
    (`kitty_ops.store.redaction`, with the repository's redact settings)."""
    if not prompt:
        return None
    prompt = prompt.replace("\x00", "").encode("utf-8", "replace").decode()  # no lone surrogate
    return prompt if len(prompt) <= MAX_REQUEST_CHARS else prompt[:MAX_REQUEST_CHARS] + "..."
