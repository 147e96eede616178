"""Setting a repository up for kitty-ops (`kitty-ops init`)."""
from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from kitty_ops.setup.precommit_config import HOOK_IDS, HOOKS_REPO, local_entry  # noqa: F401  (HOOKS_REPO: re-exported)
from kitty_ops.store import exclude
from kitty_ops.store.writer import ensure_events_dir

PRE_COMMIT_CONFIG = ".pre-commit-config.yaml"
# One `pre-commit install` installs every stage the hooks use: the audit runs on
# git push, kitty-ops-link on prepare-commit-msg (one more start of pre-commit
# on each commit: see kitty-ops-link in docs/hooks.md).
INSTALL_HOOK_TYPES = ("pre-commit", "prepare-commit-msg", "pre-push")
INSTALL_HOOK_TYPES_LINE = f"default_install_hook_types: [{', '.join(INSTALL_HOOK_TYPES)}]\n"
# A hook with no `stages` runs at every installed stage: keep the team's on commit.
DEFAULT_STAGES_LINE = "default_stages: [pre-commit]\n"


def precommit_entry(indent: str = "  ") -> str:
    """The `.pre-commit-config.yaml` list item `init --write` adds: the local
    form, which runs the installed kitty-ops (see `kitty_ops.setup.precommit_config`)."""
    return local_entry(indent)


def init_repository(repo_root: Path | str) -> list[str]:
    """Create `kitty-ops/` and its `.gitattributes`, and exclude the local files; what was done."""
    root = Path(repo_root)
    existed = (root / "kitty-ops").is_dir()
    ensure_events_dir(root)
    done = ["kitty-ops/ exists" if existed else "created kitty-ops/ with its .gitattributes (*.jsonl merge=union)"]
    if exclude.ensure_local_files_excluded(root):
        done.append("listed kitty-ops/ops-index.jsonl and kitty-ops/propagation-errors.jsonl in .git/info/exclude")
    else:
        done.append("not a git repository: nothing to exclude")
    return done


def add_precommit_entry(repo_root: Path | str, entry: Callable[[str], str] = precommit_entry) -> list[str]:
    """Add kitty-ops' hooks to `.pre-commit-config.yaml`; what was done.

    `entry(indent)`: the `repos:` item (default: the local form). The file is
    edited as text, so that comments and layout survive: the entry is appended
    to a `repos:` list that ends the file. Anything else is left for the user
    to edit by hand (ValueError says so).

    The `default_install_hook_types` it adds makes `pre-commit install`
    install prepare-commit-msg (kitty-ops-link) and pre-push (the audit)
    too, and pre-commit runs a hook with no
    `stages` at every installed stage: so, when the file has no
    `default_stages`, it gets `default_stages: [pre-commit]` as well, and the
    team's hooks run when they did.
    """
    path = Path(repo_root) / PRE_COMMIT_CONFIG
    if not path.exists():
        path.write_text(INSTALL_HOOK_TYPES_LINE + DEFAULT_STAGES_LINE + "repos:\n" + entry("  "))
        return [f"created {PRE_COMMIT_CONFIG}"]
    text = path.read_text()
    if any(hook in text for hook in HOOK_IDS):
        return [f"{PRE_COMMIT_CONFIG} already has kitty-ops hooks"]
    top_level = re.findall(r"^(\w[\w-]*):", text, re.M)
    if not top_level or top_level[-1] != "repos" or re.search(r"^repos:\s*\[", text, re.M):
        raise ValueError(f"{PRE_COMMIT_CONFIG} does not end with a `repos:` list; add the entry by hand")
    item = re.search(r"^([ \t]*)- ", text[text.rindex("\nrepos:") if "\nrepos:" in text else 0 :], re.M)
    indent = item.group(1) if item else "  "
    separator = "" if text.endswith("\n") else "\n"
    added = ""
    done = [f"added kitty-ops hooks to {PRE_COMMIT_CONFIG}"]
    if not re.search(r"^default_install_hook_types:", text, re.M):
        added += INSTALL_HOOK_TYPES_LINE
    if added and not re.search(r"^default_stages:", text, re.M):
        added += DEFAULT_STAGES_LINE
        done.append("added default_stages: [pre-commit], so that your hooks with no `stages` keep running"
                    " on commit only (not on push too)")
    if added:
        text = re.sub(r"^repos:", lambda match: added + match[0], text, count=1, flags=re.M)
    path.write_text(text + separator + entry(indent))
    return done


def init_ref_mode(repo_root: Path | str, remote: str | None = None) -> list[str]:
    """Turn ref mode on: Op commits go to refs/kitty-ops/records; what was done."""
    from kitty_ops.errors import InvalidInput
    from kitty_ops.format.layout import RECORDS_REF, TARGET_CONFIG
    from kitty_ops.gitio import git
    from kitty_ops.opcommit.sync import default_remote, fetch_refspec

    repo = git.find_repo(repo_root)
    if repo is None:
        raise InvalidInput("--ref needs a git repository")
    git.run(["config", TARGET_CONFIG, "ref"], repo.root)
    done = [f"git config {TARGET_CONFIG} ref: Op commits go to {RECORDS_REF}, never to your branch"]
    if exclude.ensure_excluded(repo.root, exclude.REF_MODE_PATTERNS, exclude.REF_MODE_HEADER):
        done.append("listed kitty-ops/*.jsonl and kitty-ops/.gitattributes in .git/info/exclude")
    remote = remote or default_remote(repo)
    if git.run(["remote", "get-url", remote], repo.root, check=False).returncode != 0:
        done.append(f"no remote named {remote!r} yet: add it, then run `kitty-ops init --ref --remote {remote}` again")
        return done
    refspec = fetch_refspec(remote)
    fetched = git.run(["config", "--get-all", f"remote.{remote}.fetch"], repo.root, check=False).stdout.decode().split()
    if refspec in fetched:
        done.append(f"remote.{remote}.fetch already has {refspec}")
    else:
        git.run(["config", "--add", f"remote.{remote}.fetch", refspec], repo.root)
        done.append(f"git fetch {remote} now brings the records: added {refspec} to remote.{remote}.fetch")
    done.append(f"share them with `kitty-ops sync {remote}` (or the kitty-ops-sync pre-push hook); "
                "a plain `git push` pushes nothing new")
    return done
