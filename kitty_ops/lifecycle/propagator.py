"""After completion: stage the record and run the post-completion hook.

The default hook is the Op commit (`kitty_ops.opcommit.commit`, also installed as the
script `kitty-ops-post-complete` from `hooks/`), run in-process. A user can
name another executable in `KITTY_OPS_POST_COMPLETE_HOOK` or the git config
`kitty-ops.postCompleteHook`. Nothing here ever fails the completion: a
failure is logged at WARNING and appended to `kitty-ops/propagation-errors.jsonl`.
"""
from __future__ import annotations

import os

from kitty_ops import settings
from kitty_ops.errors import KittyOpsError, UnsafePath
from kitty_ops.format import jsontext
from kitty_ops.format.layout import (
    COMPLETION_CONFIG,
    POST_COMPLETE_HOOK_CONFIG,
    PROPAGATION_ERRORS_PATH,
    record_relpath,
)
from kitty_ops.format.safefs import open_in_events_dir
from kitty_ops.format.secrets import redact_event
from kitty_ops.gitio import git
from kitty_ops.opcommit.commit import commit_op, stage_op_files
from kitty_ops.settings import HOOK_TIMEOUT, POST_COMPLETE_HOOK, check_hook_command, hook_timeout
from kitty_ops.store.exclude import ensure_local_files_excluded
from kitty_ops.system.clock import datetime, timezone
from kitty_ops.system.warn import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["PROPAGATION_ERRORS_PATH", "propagate", "configured_hook"]

HOOK_ENV = POST_COMPLETE_HOOK
HOOK_CONFIG = POST_COMPLETE_HOOK_CONFIG


class Propagation:
    """What happened after completion: the Op commit, or why there is none."""

    __slots__ = ("commit", "problem", "by_hook")

    def __init__(self, commit: str | None = None, problem: str | None = None, by_hook: str | None = None) -> None:
        self.commit = commit
        self.problem = problem
        self.by_hook = by_hook  # the user's hook ran: the commit of it holding the record, "" if none


def _committed_by_hook(repo_root: Path | str, op_id: str) -> str | None:
    """The newest commit holding the record as it is in the work tree, after a
    custom hook ran (it may have committed the record itself); None if none does."""
    path = record_relpath(op_id)
    if git.run(["diff", "--quiet", "HEAD", "--", path], repo_root, check=False).returncode != 0:
        return None
    return git.run(["log", "-1", "--format=%H", "--", path], repo_root, check=False).stdout.decode().strip() or None


def configured_hook(repo_root: Path | str, config: dict[str, str | None] | None = None) -> str | None:
    """The user's post-completion hook, or None for the default Op commit."""
    if os.environ.get(HOOK_ENV):
        return os.environ[HOOK_ENV]
    if config is None:
        config = git.config_values(repo_root, [HOOK_CONFIG])
    return config.get(HOOK_CONFIG.lower())


def start_settings(repo_root: Path | str) -> git.Running:
    """Start reading the config `propagate` needs (it runs while the record is written)."""
    return git.start(git.config_args(list(COMPLETION_CONFIG)), repo_root)


def propagate(repo_root: Path | str, op_id: str, label: str, settings: git.Running | None = None,
              raw_config: bytes | None = None) -> Propagation:
    """Stage and commit a completed record; `label` names the Op in warnings;
    `settings`: the query of `start_settings`, when one was started, or
    `raw_config`: its output, when it was read already (to redact)."""
    if raw_config is None:
        raw_config = git.finish(settings or start_settings(repo_root), check=False)  # 1: none set
    config = git.parse_config(raw_config)
    hook = configured_hook(repo_root, config)
    try:
        if hook:
            _run_custom_hook(repo_root, op_id, hook)
            return Propagation(by_hook=_committed_by_hook(repo_root, op_id) or "")
        return Propagation(commit=commit_op(repo_root, op_id, config=config))
    except KittyOpsError as exc:
        problem = str(exc)
    except OSError as exc:
        problem = f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc)
    warn(
        "%s completed but not committed: %s; then run `kitty-ops commit --pending`", label, problem
    )
    record_error(repo_root, op_id, hook or "default", problem)
    return Propagation(problem=problem)


def _run_custom_hook(repo_root: Path | str, op_id: str, hook: str) -> None:
    import subprocess  # here: the default Op commit never needs it

    timeout = hook_timeout()  # InvalidInput (a KittyOpsError): reported as the Op's warning
    check_hook_command(hook, HOOK_ENV if os.environ.get(HOOK_ENV) else HOOK_CONFIG)
    stage_op_files(repo_root, op_id)
    env = {
        **os.environ,
        settings.OP_ID: op_id,
        settings.RECORD: os.path.join(repo_root, record_relpath(op_id)),
        settings.REPO: str(repo_root),
    }
    try:
        result = subprocess.run(
            [hook, op_id],
            cwd=repo_root,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        raise KittyOpsError(f"post-completion hook {hook} timed out after {timeout:g}s ({HOOK_TIMEOUT})") from None
    except OSError as exc:
        raise KittyOpsError(f"post-completion hook {hook} could not run: {exc.strerror or exc}") from None
    if result.returncode != 0:
        detail = result.stderr.decode(errors="replace").strip().splitlines()
        raise KittyOpsError(
            f"post-completion hook {hook} exited {result.returncode}"
            + (f": {detail[-1]}" if detail else "")
        )


def record_error(repo_root: Path | str, op_id: str, hook: str, error: str) -> None:
    """Append a failed delivery to the local error log (best effort; never
    through a link or into a special file: that is warned about instead)."""
    line = {
        "at": datetime.now(timezone.utc).isoformat(),
        "invocation_id": op_id,
        "hook": hook,
        "error": error,
    }
    line = redact_event(line)[0]  # a hook's message may quote a secret: never logged
    name = PROPAGATION_ERRORS_PATH.rsplit("/", 1)[1]
    try:
        new = not os.path.lexists(os.path.join(repo_root, PROPAGATION_ERRORS_PATH))
        fd = open_in_events_dir(repo_root, name, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, (jsontext.dumps(line) + "\n").encode())
        finally:
            os.close(fd)
        if new:
            ensure_local_files_excluded(repo_root)
    except UnsafePath as exc:
        warn("did not log the failure: %s", exc)
    except OSError as exc:
        warn("could not write %s: %s", PROPAGATION_ERRORS_PATH, exc.strerror or exc)
