"""Taking kitty-ops out of a repository (`kitty-ops uninstall`).

It removes what `init` and the hooks set up in this clone: kitty-ops' hooks
in `.pre-commit-config.yaml`, its lines in `.git/info/exclude`, its local
directory `.git/kitty-ops/` (owners, caches, the report page), its
`git config kitty-ops.*` settings and the local index and error log. The
committed records stay in history. Unless told to keep them
(`keep_records`), it then makes the retiring commit: `kitty-ops/` removed
and the edited config, with `kitty-ops: retired` in its message, which the
audit accepts (the hooks are gone from the config that commit holds, so
they do not run on it).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from kitty_ops.format.layout import EVENTS_DIR, LOCAL_PATHS
from kitty_ops.gitio import git
from kitty_ops.queries.audit import RETIRED
from kitty_ops.setup.install import PRE_COMMIT_CONFIG
from kitty_ops.setup.precommit_config import HOOKS
from kitty_ops.store import exclude

OUR_HOOKS = frozenset(hook[0] for hook in HOOKS)
RETIRING_MESSAGE = f"{RETIRED}\n\nkitty-ops is uninstalled; its records stay in the history before this commit."
_ITEM = re.compile(r"^(\s*)- (?:repo|id):")


def _blocks(lines: list[str], start: int, end: int, indent: int) -> list[tuple[int, int]]:
    """The list items of `lines[start:end]` that start at column `indent`: (first, after-last)."""
    found: list[tuple[int, int]] = []
    for number in range(start, end):
        line = lines[number]
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        column = len(line) - len(line.lstrip())
        if column < indent or (column == indent and not line.lstrip().startswith("- ")):
            break
        if column == indent:
            if found:
                found[-1] = (found[-1][0], number)
            found.append((number, end))
    if found:
        found[-1] = (found[-1][0], _end_of(lines, found[-1][0], end, indent))
    return found


def _end_of(lines: list[str], first: int, end: int, indent: int) -> int:
    for number in range(first + 1, end):
        line = lines[number]
        if line.strip() and not line.lstrip().startswith("#") and len(line) - len(line.lstrip()) <= indent:
            return number
    return end


def remove_hooks_text(text: str) -> tuple[str, int]:
    """`.pre-commit-config.yaml` without kitty-ops' hooks (a `repos:` item with
    only kitty-ops' hooks goes whole), and how many hooks went. As text: the
    rest, comments included, is left as it was."""
    lines = text.splitlines(keepends=True)
    repos = next((number for number, line in enumerate(lines) if re.match(r"^repos:\s*(#.*)?$", line)), None)
    if repos is None:
        return text, 0
    first = next((number for number in range(repos + 1, len(lines)) if _ITEM.match(lines[number])), None)
    if first is None:
        return text, 0
    indent = len(lines[first]) - len(lines[first].lstrip())
    drop: set[int] = set()
    removed = 0
    for item_start, item_end in _blocks(lines, first, len(lines), indent):
        hooks = [(number, match.group(2)) for number in range(item_start, item_end)
                 if (match := re.match(r"^(\s*)- id:\s*['\"]?([\w.-]+)", lines[number]))]
        ours = [(number, hook) for number, hook in hooks if hook in OUR_HOOKS]
        if not ours:
            continue
        removed += len(ours)
        if len(ours) == len(hooks):
            drop.update(range(item_start, item_end))
            continue
        for number, _ in ours:
            hook_indent = len(lines[number]) - len(lines[number].lstrip())
            drop.update(range(number, _end_of(lines, number, item_end, hook_indent)))
    kept = [line for number, line in enumerate(lines) if number not in drop]
    if removed and not any(_ITEM.match(line) for line in kept[repos + 1:]):
        kept[repos] = "repos: []\n"
    return "".join(kept), removed


def remove_precommit_hooks(root: Path) -> str:
    path = root / PRE_COMMIT_CONFIG
    if not path.exists():
        return f"no {PRE_COMMIT_CONFIG}"
    text, removed = remove_hooks_text(path.read_text())
    if not removed:
        return f"{PRE_COMMIT_CONFIG} has no kitty-ops hooks"
    path.write_text(text)
    return (f"removed kitty-ops' {removed} hook{'s' if removed > 1 else ''} from {PRE_COMMIT_CONFIG}"
            " (default_install_hook_types and default_stages stay: remove them by hand if kitty-ops added them)")


def remove_exclude_lines(repo: git.Repo) -> str | None:
    path = repo.common_dir / "info" / "exclude"
    ours = {exclude.HEADER, exclude.REF_MODE_HEADER, *exclude.exclude_patterns(), *exclude.REF_MODE_PATTERNS}
    try:
        lines = path.read_text().splitlines(keepends=True)
    except OSError:
        return None
    kept = [line for line in lines if line.rstrip("\n") not in ours]
    if len(kept) == len(lines):
        return None
    path.write_text("".join(kept))
    return f"removed kitty-ops' lines from {path}"


def remove_local_state(root: Path, repo: git.Repo | None) -> list[str]:
    """The clone's own files: `.git/kitty-ops/`, the settings, the index and error log."""
    done = []
    for relative in LOCAL_PATHS:
        if os.path.isfile(root / relative) and not os.path.islink(root / relative):
            os.unlink(root / relative)
            done.append(f"removed {relative}")
    if repo is None:
        return done
    for directory in dict.fromkeys([repo.common_dir / "kitty-ops", Path(repo.git_path) / "kitty-ops"]):
        if directory.is_dir() and not directory.is_symlink():
            shutil.rmtree(directory)
            done.append(f"removed {directory}")
    from kitty_ops.opcommit.commit import COMMIT_LOCK_NAME

    lock = repo.common_dir / COMMIT_LOCK_NAME
    if lock.is_file() and not lock.is_symlink():
        lock.unlink()
    if git.run(["config", "--remove-section", "kitty-ops"], root, check=False).returncode == 0:
        done.append("removed the git config kitty-ops.* settings")
    return done


def retire(root: Path, also: list[str] | tuple[str, ...] = ()) -> list[str]:
    """The retiring commit: `kitty-ops/` removed (the config too, as edited, and
    the tracked files in `also`: the agent configs)."""
    paths = [EVENTS_DIR, *also]
    if git.run(["ls-files", "--error-unmatch", "--", PRE_COMMIT_CONFIG], root, check=False).returncode == 0:
        paths.append(PRE_COMMIT_CONFIG)
    git.run(["rm", "-r", "-q", "--ignore-unmatch", "--", EVENTS_DIR], root)
    if not git.run(["diff", "--cached", "--name-only", "--", *paths], root).stdout.strip():
        return ["nothing under kitty-ops/ was committed: no retiring commit"]
    git.run(["commit", "-q", "-m", RETIRING_MESSAGE, "--", *paths], root)
    sha = git.run(["rev-parse", "--short=12", "HEAD"], root).stdout.decode().strip()
    done = [f"committed {sha} {RETIRED}: kitty-ops/ removed, its records stay in history"]
    left = sorted(os.listdir(root / EVENTS_DIR)) if (root / EVENTS_DIR).is_dir() else []
    if left:
        done.append(f"left in kitty-ops/ what was never committed ({len(left)} files): delete it or keep it")
    return done


def uninstall(repo_root: Path | str, keep_records: bool = False, also: list[str] | tuple[str, ...] = ()) -> list[str]:
    """Remove kitty-ops from the repository; what was done, one line each.
    `also`: tracked files already edited for it (agent configs), for the retiring commit."""
    root = Path(repo_root)
    repo = git.find_repo(root)
    done = [remove_precommit_hooks(root)]
    if repo is not None:
        line = remove_exclude_lines(repo)
        done += [line] if line else []
    done += remove_local_state(root, repo)
    if repo is None:
        return [*done, "not a git repository: kitty-ops/ stays (nothing there was committed)"]
    if keep_records:
        return [*done, "kept kitty-ops/ and its records in the work tree (--keep-records)"]
    return done + retire(root, also)
