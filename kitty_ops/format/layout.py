"""Where kitty-ops keeps things inside a repository (paths relative to its root)."""
from __future__ import annotations

import os

from kitty_ops.errors import InvalidInput, UnsafePath
from kitty_ops.format.ulid import is_ulid, require_ulid
from kitty_ops.settings import POST_COMPLETE_HOOK_CONFIG, REDACT_ALLOW_CONFIG, REDACT_CONFIG, TARGET_CONFIG

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

EVENTS_DIR = "kitty-ops"
INDEX_PATH = f"{EVENTS_DIR}/ops-index.jsonl"
LIFECYCLE_LOG_RELATIVE_PATH = f"{EVENTS_DIR}/lifecycle.jsonl"
PROPAGATION_ERRORS_PATH = f"{EVENTS_DIR}/propagation-errors.jsonl"
GITATTRIBUTES_PATH = f"{EVENTS_DIR}/.gitattributes"
GITATTRIBUTES_TEXT = "*.jsonl merge=union\n"

# Caches and diagnostics of one clone: listed in .git/info/exclude, never committed.
LOCAL_PATHS = (INDEX_PATH, PROPAGATION_ERRORS_PATH)
# Files an Op commit may carry besides the record itself.
SHARED_PATHS = (LIFECYCLE_LOG_RELATIVE_PATH, GITATTRIBUTES_PATH)

RECORD_SUFFIX = ".jsonl"

# Ref mode (`git config kitty-ops.target ref`): Op commits go to this ref, never HEAD.
RECORDS_REF = "refs/kitty-ops/records"
# What a completion reads from git config (in one call, started as early as it
# can be): the user's post-completion hook, and for the Op commit: signing, the
# target, and the identity it writes commits with itself.
SIGN_CONFIG = "commit.gpgSign"
IDENT_CONFIG = ("user.name", "user.email", "author.name", "author.email", "committer.name", "committer.email",
                "i18n.commitEncoding")
# ... and what decides whether it may move the branch itself (`kitty_ops.gitio.refs`).
REFS_CONFIG = ("core.logAllRefUpdates", "core.hooksPath", "core.sharedRepository", "extensions.refStorage",
               "extensions.objectFormat", "core.filesRefLockTimeout")
COMMIT_CONFIG = (SIGN_CONFIG, TARGET_CONFIG, *IDENT_CONFIG, *REFS_CONFIG)
# ... and whether (and what not) to redact (read only when a secret is found).
REDACT_SETTINGS = (REDACT_CONFIG, REDACT_ALLOW_CONFIG)
COMPLETION_CONFIG = (POST_COMPLETE_HOOK_CONFIG, *REDACT_SETTINGS, *COMMIT_CONFIG)


def record_relpath(op_id: str) -> str:
    """`kitty-ops/<op_id>.jsonl`, for an id that is an exact ULID (else ValueError)."""
    return f"{EVENTS_DIR}/{require_ulid(op_id)}{RECORD_SUFFIX}"


def record_path(repo_root: Path | str, op_id: str) -> Path:
    # pathlib is imported here, not above: the pre-commit hooks import this module.
    from pathlib import Path

    return Path(repo_root) / record_relpath(op_id)


def op_id_from_path(path: str) -> str | None:
    """The Op id a `/`-separated path's file name stands for, or None."""
    return op_id_from_name(path.rsplit("/", 1)[-1])


def op_id_from_name(name: str) -> str | None:
    """The Op id a file name stands for, or None when it is not an Op record."""
    if name.endswith(RECORD_SUFFIX):
        stem = name[: -len(RECORD_SUFFIX)]
        if is_ulid(stem):
            return stem
    return None


def safe_record_path(repo_root: Path | str, op_id: str) -> Path:
    """The record path of `op_id`, refused when the id or the path is unsafe."""
    from pathlib import Path

    return Path(safe_record_file(repo_root, op_id))


def safe_record_file(repo_root: Path | str, op_id: str) -> str:
    """`safe_record_path` as text (the Op's own path never imports pathlib)."""
    try:
        relpath = record_relpath(op_id)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    path = os.path.join(os.fspath(repo_root), relpath)
    refuse_link(os.path.dirname(path), EVENTS_DIR)
    refuse_link(path, relpath)
    return path


def refuse_link(path: Path | str, shown: str) -> None:
    if os.path.islink(path):
        raise UnsafePath(f"{shown} is a symbolic link; kitty-ops does not write through links")
