"""The `.pre-commit-config.yaml` entries for kitty-ops' hooks, in two forms.

- local (`repo: local`, `language: system`): the hooks run the console
  scripts of the installed kitty-ops, so it works with no network and no
  published repository: what `kitty-ops init --write` writes.
- published (`repo:` URL + `rev:`): pre-commit builds its own environment of
  kitty-ops from that repository at that revision (a tag or a sha), so that a
  teammate with nothing installed can commit: `init --write --hooks-from URL`
  writes it for the team's own copy of kitty-ops (an internal mirror, a fork).

Both forms give every hook explicit stages (`.pre-commit-hooks.yaml` declares
them for the published form), so that `default_stages` never moves them.

`HOOKS` repeats the settings of `.pre-commit-hooks.yaml` (a test keeps the
two equal), since that file is not installed with the package.
"""
from __future__ import annotations

from kitty_ops import __version__

HOOKS_REPO = "https://github.com/kitty-ops/kitty-ops"

# id, name, stages, pass_filenames, always_run, files (None: any); validate takes
# every path under kitty-ops/, links included (`types: []`), and runs only when
# one is staged (the orphans hook, which always runs, blocks deletions)
HOOKS = (
    ("kitty-ops-orphans", "kitty-ops orphans", ("pre-commit", "manual"), False, True, None),
    ("kitty-ops-validate", "kitty-ops validate", ("pre-commit", "manual"), True, False, r"^kitty-ops(/|$)"),
    ("kitty-ops-post-commit", "kitty-ops post-commit", ("post-commit",), False, True, None),
    ("kitty-ops-audit", "kitty-ops audit", ("pre-push", "manual"), False, True, None),
    ("kitty-ops-sync", "kitty-ops sync", ("pre-push",), False, True, None),
    ("kitty-ops-link", "kitty-ops link", ("prepare-commit-msg",), True, True, None),
)
ALL_TYPES = ("kitty-ops-validate",)
# Declared for configurations written before, not installed any more: an Op that
# waits for a person's commit is committed by `kitty_ops.opcommit.waiter`, and every hook
# that runs costs a commit pre-commit's `git diff` of the whole work tree.
OPTIONAL = ("kitty-ops-post-commit",)
HOOK_IDS = tuple(hook[0] for hook in HOOKS if hook[0] not in OPTIONAL)


def local_entry(indent: str = "  ") -> str:
    """The `repos:` item that runs the installed console scripts (`language: system`)."""
    lines = [f"{indent}- repo: local", f"{indent}  hooks:"]
    for hook_id, name, stages, pass_filenames, always_run, files in HOOKS:
        if hook_id in OPTIONAL:
            continue
        item = f"{indent}    "
        lines += [
            f"{item}- id: {hook_id}",
            f"{item}  name: {name}",
            f"{item}  entry: {hook_id}",
            f"{item}  language: system",
            *([f"{item}  files: '{files}'"] if files else []),
            *([f"{item}  types: []"] if hook_id in ALL_TYPES else []),
            f"{item}  pass_filenames: {str(pass_filenames).lower()}",
            f"{item}  always_run: {str(always_run).lower()}",
            f"{item}  stages: [{', '.join(stages)}]",
        ]
    return "\n".join(lines) + "\n"


def default_rev() -> str:
    """The tag of the running version, `v<version>`: the rev `--hooks-from` writes by default."""
    return f"v{__version__}"


def published_entry(indent: str = "  ", url: str = HOOKS_REPO, rev: str | None = None) -> str:
    """The `repos:` item that installs the hooks from repository `url` at `rev`
    (default: `default_rev()`); pre-commit installs kitty-ops by itself."""
    hooks = "".join(f"{indent}    - id: {hook_id}\n" for hook_id in HOOK_IDS)
    url, rev = yaml_scalar(url), yaml_scalar(rev or default_rev())
    return f"{indent}- repo: {url}\n{indent}  rev: {rev}\n{indent}  hooks:\n{hooks}"


def yaml_scalar(text: str) -> str:
    """`text` as a YAML scalar: plain when it is a URL, a path or a rev, else single-quoted."""
    if "\n" in text or "\r" in text or not text.strip():
        raise ValueError(f"not a repository or a revision: {text!r}")
    plain = all(char.isalnum() or char in "@:/._+~%=-" for char in text) and text[0] not in "@%-:"
    return text if plain else "'" + text.replace("'", "''") + "'"
