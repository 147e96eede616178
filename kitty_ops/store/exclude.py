"""Keeping this clone's local files (index, error log) out of git via info/exclude."""
from __future__ import annotations

from kitty_ops.format.layout import LOCAL_PATHS
from kitty_ops.gitio import git
from kitty_ops.system.warn import warn

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

HEADER = "# kitty-ops: caches and diagnostics of this clone, never committed"


def exclude_patterns() -> list[str]:
    return [f"/{path}" for path in LOCAL_PATHS]


REF_MODE_PATTERNS = ("/kitty-ops/*.jsonl", "/kitty-ops/.gitattributes")
REF_MODE_HEADER = "# kitty-ops ref mode: the records live on refs/kitty-ops/records, not on branches"


def ensure_local_files_excluded(repo_root: Path | str) -> bool:
    """List the two local files in `info/exclude`; False outside git or on failure."""
    return ensure_excluded(repo_root, exclude_patterns(), HEADER)


def ensure_excluded(repo_root: Path | str, patterns: list[str] | tuple[str, ...], header: str) -> bool:
    """List `patterns` in `info/exclude` (once each); False outside git or on failure."""
    repo = git.find_repo(repo_root)
    if repo is None:
        return False
    exclude = repo.common_dir / "info" / "exclude"
    try:
        text = exclude.read_text() if exclude.exists() else ""
        missing = [line for line in patterns if line not in text.splitlines()]
        if missing:
            exclude.parent.mkdir(parents=True, exist_ok=True)
            prefix = "" if not text or text.endswith("\n") else "\n"
            with exclude.open("a") as handle:
                handle.write(prefix + "\n".join([header, *missing]) + "\n")
    except OSError as exc:
        warn("could not update %s: %s", exclude, exc.strerror or exc)
        return False
    return True
