"""Is an Op record well formed, and did it only grow? (`kitty-ops-validate`, `kitty-ops validate`)

A record is invalid when a line is not JSON, its ids do not match its file
name, its first event is not `started`, an event comes before `started`, or it
has more than one `completed`. A record (or `lifecycle.jsonl`) that HEAD
already holds must begin with HEAD's version byte for byte: these files are
append-only, and history is never rewritten. The local files of a clone (the
index, which lists open Ops, and the error log) are never committed. Nothing
under `kitty-ops/` may be a symbolic link or a special file: a staged link
(git's mode 120000) blocks, and so does one in the work tree; it is never
read through. Standard library only: this runs inside a pre-commit hook.
"""
from __future__ import annotations

import os

from kitty_ops.errors import UnsafePath
from kitty_ops.format import secrets
from kitty_ops.format.layout import (
    EVENTS_DIR,
    LIFECYCLE_LOG_RELATIVE_PATH,
    LOCAL_PATHS,
    REDACT_SETTINGS,
    SHARED_PATHS,
    op_id_from_name,
    op_id_from_path,
)
from kitty_ops.format.safefs import open_events_dir, read_file_at, unsafe_reason
from kitty_ops.format.scan import scan_record
from kitty_ops.gitio import git

APPEND_ONLY_LOGS = (LIFECYCLE_LOG_RELATIVE_PATH,)
SECRET_REMEDY = ("rotate the key, then remove it from the line (or unstage the file);"
                 " kitty-ops start/complete redact it before writing (git config kitty-ops.redact)")
REGULAR_MODES = ("100644", "100755")
_GIT_MODES = {"120000": "a symbolic link", "160000": "a submodule"}
KNOWN_NAMES = tuple(path.rsplit("/", 1)[1] for path in (*SHARED_PATHS, *LOCAL_PATHS))


def record_problems(path: str, content: bytes, head_content: bytes | None, repo_root: str = ".") -> list[str]:
    """The problems of one file; empty when it is valid."""
    problems = []
    op_id = op_id_from_path(path)
    if op_id is not None:
        problems += scan_record(content, op_id).problems
    if head_content is not None and not content.startswith(head_content):
        problems.append("changes lines already committed (records are append-only; add lines, never edit them)")
    return problems + secret_problems(content, head_content, repo_root)


def secret_problems(content: bytes, head_content: bytes | None, repo_root: str = ".") -> list[str]:
    """A secret in a line HEAD does not hold yet: where it is and its rule, never
    the secret (`kitty_ops.format.secrets`). Committed lines are `audit`'s to report.
    git config (`kitty-ops.redact`, `kitty-ops.redactAllow`) is read only when one is found."""
    start = secrets.start_of_new_lines(content, head_content)
    found = secrets.content_secrets(content, start)
    if not found:
        return []
    policy = secrets.policy_from_config(
        git.run(git.config_args(list(REDACT_SETTINGS)), repo_root, check=False).stdout)
    if not policy.enabled:
        return []
    if policy.allow:
        found = secrets.content_secrets(content, start, policy.allow)
    return [f"line {number}: {field} holds a secret (rule {rule}); it must not be committed: {SECRET_REMEDY}"
            for number, field, rule in found]


def is_checked(path: str) -> bool:
    """Op records and the append-only logs; the local index and error log are not checked."""
    return op_id_from_path(path) is not None or path in APPEND_ONLY_LOGS


def local_file_problem(path: str, where: str) -> str:
    """What is wrong with a local file (`ops-index.jsonl`, ...) found `where` (staged, committed)."""
    return (
        f"{where}, but it is local to each clone (a cache or a log) and must stay out of git:"
        f" git rm --cached {path}"
    )


def is_ours(path: str) -> bool:
    """`kitty-ops/` itself or a path inside it."""
    return path == EVENTS_DIR or path.startswith(EVENTS_DIR + "/")


def staged_modes(paths: list[str]) -> dict[str, str]:
    """`{path: mode}` of the index entries among `paths` (`100644`, `120000` for a link)."""
    if not paths:
        return {}
    raw = git.run(["--literal-pathspecs", "ls-files", "-s", "-z", "--", *paths], ".").stdout
    modes = {}
    for entry in git.split_z(raw):
        info, _, path = entry.partition("\t")
        modes[path] = info.split(" ", 1)[0]
    return modes


def link_problem(path: str, kind: str, where: str) -> str:
    return (
        f"{where} as {kind}; kitty-ops never reads or commits through links or special files:"
        f" git rm --cached {path}, and keep a regular file there"
    )


def check_staged(paths: list[str]) -> dict[str, list[str]]:
    """`{path: problems}` for the staged (index) versions of `paths`, against HEAD.
    A staged link (or submodule) under `kitty-ops/` is a problem of its own."""
    ours = [path for path in paths if is_ours(path)]
    problems: dict[str, list[str]] = {}
    for path, mode in staged_modes(ours).items():
        if mode not in REGULAR_MODES:
            problems[path] = [link_problem(path, _GIT_MODES.get(mode, f"mode {mode}"), "staged")]
    paths = [path for path in paths if path not in problems]
    local = [path for path in paths if path in LOCAL_PATHS]
    paths = [path for path in paths if is_checked(path)]
    blobs = git.read_blobs(
        ".", [f":{path}" for path in local + paths] + [f"HEAD:{path}" for path in paths]
    )
    problems.update(
        (path, [local_file_problem(path, "staged")]) for path in local if blobs.get(f":{path}") is not None
    )
    for path in paths:
        staged = blobs.get(f":{path}")
        if staged is not None:  # not staged (deleted, or not added): nothing to check
            found = record_problems(path, staged, blobs.get(f"HEAD:{path}"))
            if found:
                problems[path] = found
    return problems


def check_work_tree(repo_root: str, paths: list[str] | None = None) -> tuple[int, dict[str, list[str]]]:
    """(files checked, `{path: problems}`) for the work-tree files `paths`
    (relative to the root; default: everything under `kitty-ops/`), against HEAD.
    A local file is a problem only when HEAD holds it."""
    problems: dict[str, list[str]] = {}
    if paths is None:
        try:
            paths = [f"{EVENTS_DIR}/{name}" for name in sorted(_listed_names(repo_root))]
        except UnsafePath as exc:
            return 1, {f"{EVENTS_DIR}/": [str(exc).partition(" ")[2]]}
    for path in paths:
        reason = unsafe_reason(os.path.join(repo_root, path)) if is_ours(path) else None
        if reason is not None and reason != "a directory":  # a directory is not a file to check
            problems[path] = [link_problem(path, reason, "in the work tree")]
    unsafe = len(problems)
    paths = [path for path in paths if path not in problems]
    local = [path for path in paths if path in LOCAL_PATHS]
    paths = [path for path in paths if is_checked(path)]
    in_git = git.find_repo(repo_root) is not None
    wanted = [f"HEAD:{path}" for path in local + paths]
    head = git.read_blobs(repo_root, wanted) if in_git and wanted else {}
    problems.update(
        (path, [local_file_problem(path, "committed in HEAD")])
        for path in local
        if head.get(f"HEAD:{path}") is not None
    )
    for path in paths:
        try:
            content = read_file_at(os.path.join(repo_root, path))
        except UnsafePath as exc:
            problems[path] = [str(exc).partition(" ")[2]]
            continue
        except OSError as exc:
            problems[path] = [f"unreadable: {exc.strerror or exc}"]
            continue
        found = record_problems(path, content, head.get(f"HEAD:{path}"), repo_root)
        if found:
            problems[path] = found
    return unsafe + len(local) + len(paths), problems


def _listed_names(repo_root: str) -> list[str]:
    """The names in `kitty-ops/` that kitty-ops keeps (records, shared and local
    files); UnsafePath when the directory is a link."""
    try:
        directory = open_events_dir(repo_root)
    except FileNotFoundError:
        return []
    try:
        return [name for name in os.listdir(directory) if op_id_from_name(name) or name in KNOWN_NAMES]
    finally:
        os.close(directory)
