"""What `kitty-ops start` and `complete` do, without click: the click commands
(`kitty_ops.cli.ops`) and the fast path (`kitty_ops.cli.fast`) both call these."""
from __future__ import annotations

import os
import sys

from kitty_ops.errors import EXIT_OK, InvalidInput

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from kitty_ops.gitio import git


def resolve_repo(directory: str | None) -> Path:
    """The root `--repo DIR` names (see `git.work_root`)."""
    from pathlib import Path

    return Path(resolve_top(directory))


def resolve_top(directory: str | None) -> str:
    """`resolve_repo` as text (`start` and `complete` never import pathlib)."""
    from kitty_ops.gitio import git

    if directory is not None and not os.path.isdir(directory):
        raise InvalidInput(f"--repo {directory}: no such directory")
    return git.work_top(directory)


def resolve_records_repo(directory: str | None) -> Path:
    """The root for the commands that create records (`start`, `run`): a `--repo
    DIR` outside git must already hold `kitty-ops/` (`kitty-ops init --repo DIR`
    makes it), so that a mistyped --repo never scatters records."""
    from pathlib import Path

    return Path(resolve_records_top(directory))


def resolve_records_top(directory: str | None) -> str:
    """`resolve_records_repo` as text."""
    from kitty_ops.gitio import git

    root = resolve_top(directory)
    if directory is not None and git.find_repo(root) is None and not os.path.isdir(os.path.join(root, "kitty-ops")):
        raise InvalidInput(
            f"--repo {directory}: not in a git repository and has no kitty-ops/ directory"
            f" (run `git init` there, or `kitty-ops init --repo {directory}` to keep records outside git)"
        )
    return root


def print_json(value: object) -> None:
    import json  # here: `json` brings `re`, which the plain output never needs

    print(json.dumps(value, indent=2, sort_keys=True, default=str))


def start_op(repo: Path | str, profile_id: str, action: str, owner_pid: int | None, as_json: bool,
             optional: dict[str, object], repo_given: bool = False) -> int:
    """`repo_given`: `--repo` named the directory (outside git, it was set up on
    purpose: no note that nothing there is committed)."""
    from kitty_ops.lifecycle.executor import start_invocation
    from kitty_ops.lifecycle.owners import command_line_owner

    optional = {name: value for name, value in optional.items() if value is not None}
    notes: list[str] = []
    started = start_invocation(repo, profile_id, action, owner_pid=command_line_owner(owner_pid, notes), **optional)
    if not repo_given:
        from kitty_ops.gitio import git

        if git.find_repo(repo) is None:
            notes.append(f"not in a git repository: the record is written to {os.path.join(repo, 'kitty-ops')}"
                         " and nothing there is committed (run it in a git work tree, or give --repo)")
    for note in notes:
        print(f"kitty-ops: note: {note}", file=sys.stderr)
    if as_json:
        print_json(started)
    else:
        print(started["invocation_id"])
    return EXIT_OK


def start_settings(repo: Path | str) -> git.Running:
    """Start git reading the config a completion needs (it runs while the rest of
    the completion is imported and the line written)."""
    from kitty_ops.format.layout import COMPLETION_CONFIG
    from kitty_ops.gitio import git

    return git.start(git.config_args(list(COMPLETION_CONFIG)), repo)


def complete_op(repo: Path | str, op_id: str, outcome: str, evidence_ref: str | None, artifacts: Iterable[str],
                commit_sha: str | None, no_commit: bool, as_json: bool, settings: git.Running | None = None) -> int:
    """`settings`: the query of `start_settings`, when the caller started it."""
    from kitty_ops.gitio import git

    if settings is None and not no_commit:
        settings = start_settings(repo)
    try:
        from kitty_ops.lifecycle.executor import complete_invocation
        from kitty_ops.queries.opids import resolve

        op_id = resolve(repo, op_id)
    except BaseException:
        if settings is not None:
            git.finish(settings, check=False)
        raise
    result = complete_invocation(
        repo, op_id, outcome, evidence_ref=evidence_ref, artifacts=artifacts, commit_sha=commit_sha,
        commit=not no_commit, settings=settings,
    )
    if as_json:
        print_json({**result.event, "record": str(result.record_path), "commit": result.commit,
                    "pending_reason": result.pending_reason})
    else:
        print(f"{op_id} {outcome}, {result.summary}")
    sys.stdout.flush()
    return EXIT_OK
