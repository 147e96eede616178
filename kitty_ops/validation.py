"""Is an Op record well formed, and did it only grow? (`kitty-ops-validate`, `kitty-ops validate`)

A record is invalid when a line is not JSON, its ids do not match its file
name, its first event is not `started`, an event comes before `started`, or it
has more than one `completed`. A record (or `lifecycle.jsonl`) that HEAD
already holds must begin with HEAD's version byte for byte: these files are
append-only, and history is never rewritten. The local files of a clone (the
index, which lists open Ops, and the error log) are never committed. Standard
library only: this runs inside a pre-commit hook.
"""
from __future__ import annotations

import os

from kitty_ops import git
from kitty_ops.layout import EVENTS_DIR, LIFECYCLE_LOG_RELATIVE_PATH, LOCAL_PATHS, op_id_from_path
from kitty_ops.scan import scan_record

APPEND_ONLY_LOGS = (LIFECYCLE_LOG_RELATIVE_PATH,)


def record_problems(path: str, content: bytes, head_content: bytes | None) -> list[str]:
    """The problems of one file; empty when it is valid."""
    problems = []
    op_id = op_id_from_path(path)
    if op_id is not None:
        problems += scan_record(content, op_id).problems
    if head_content is not None and not content.startswith(head_content):
        problems.append("changes lines already committed (records are append-only; add lines, never edit them)")
    return problems


def is_checked(path: str) -> bool:
    """Op records and the append-only logs; the local index and error log are not checked."""
    return op_id_from_path(path) is not None or path in APPEND_ONLY_LOGS


def local_file_problem(path: str, where: str) -> str:
    """What is wrong with a local file (`ops-index.jsonl`, ...) found `where` (staged, committed)."""
    return (
        f"{where}, but it is local to each clone (a cache or a log) and must stay out of git:"
        f" git rm --cached {path}"
    )


def check_staged(paths: list[str]) -> dict[str, list[str]]:
    """`{path: problems}` for the staged (index) versions of `paths`, against HEAD."""
    local = [path for path in paths if path in LOCAL_PATHS]
    paths = [path for path in paths if is_checked(path)]
    blobs = git.read_blobs(
        ".", [f":{path}" for path in local + paths] + [f"HEAD:{path}" for path in paths]
    )
    problems = {
        path: [local_file_problem(path, "staged")] for path in local if blobs.get(f":{path}") is not None
    }
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
    if paths is None:
        directory = os.path.join(repo_root, EVENTS_DIR)
        names = sorted(os.listdir(directory)) if os.path.isdir(directory) else []
        paths = [f"{EVENTS_DIR}/{name}" for name in names]
    local = [path for path in paths if path in LOCAL_PATHS]
    paths = [path for path in paths if is_checked(path)]
    in_git = git.find_repo(repo_root) is not None
    wanted = [f"HEAD:{path}" for path in local + paths]
    head = git.read_blobs(repo_root, wanted) if in_git and wanted else {}
    problems = {
        path: [local_file_problem(path, "committed in HEAD")]
        for path in local
        if head.get(f"HEAD:{path}") is not None
    }
    for path in paths:
        try:
            with open(os.path.join(repo_root, path), "rb") as handle:
                content = handle.read()
        except OSError as exc:
            problems[path] = [f"unreadable: {exc.strerror or exc}"]
            continue
        found = record_problems(path, content, head.get(f"HEAD:{path}"))
        if found:
            problems[path] = found
    return len(local) + len(paths), problems
