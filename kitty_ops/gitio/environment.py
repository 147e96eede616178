"""The environment kitty-ops gives git: an allowlist, no way to prompt, no
pager or editor, and none of the pathspec switches a running git exports."""
from __future__ import annotations

import os

_QUIET_ENV = {
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_EDITOR": "false",
    "GIT_SEQUENCE_EDITOR": "false",
    "GCM_INTERACTIVE": "never",
    "GIT_OPTIONAL_LOCKS": "0",
}

# The environment of every git call is an allowlist, as pre-commit's
# `no_git_env` (pre_commit/git.py) makes it: of git's own variables only those
# that say how to reach a remote and what the user configured pass. Dropped:
# whatever a running git command exports to its hooks and children (GIT_PREFIX,
# GIT_REFLOG_ACTION, GIT_INTERNAL_*, GIT_QUARANTINE_PATH, the pathspec
# switches below, ...), GIT_TRACE*, and test switches.
_KEPT_GIT_VARIABLES = frozenset((
    # pre-commit's list
    "GIT_EXEC_PATH", "GIT_SSH", "GIT_SSH_COMMAND", "GIT_SSL_CAINFO", "GIT_SSL_NO_VERIFY",
    "GIT_CONFIG_COUNT", "GIT_HTTP_PROXY_AUTHMETHOD", "GIT_ALLOW_PROTOCOL", "GIT_ASKPASS",
    # how GIT_SSH is to be spoken to (plink, tortoiseplink)
    "GIT_SSH_VARIANT",
    # where the user's configuration is, and what `git -c` adds to it: the
    # identity, signing key and kitty-ops settings kitty-ops must read as git does
    "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "GIT_CONFIG_PARAMETERS",
    # who commits, and when: the Op commit written without git reads them too, both must agree
    "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_AUTHOR_DATE",
    "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL", "GIT_COMMITTER_DATE",
))
_KEPT_GIT_PREFIXES = ("GIT_CONFIG_KEY_", "GIT_CONFIG_VALUE_")

# Where the repository is, as git hands it to the hooks it runs: GIT_INDEX_FILE
# above all, the index being committed (a temporary one for `git commit -a` or
# `git commit <path>`). Kept as given by the calls that name no repository
# (`_env`: the pre-commit hooks' calls, which must read what git is committing);
# `repo_env` drops them and names the repository itself.
REPOSITORY_VARIABLES = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_CEILING_DIRECTORIES", "GIT_DISCOVERY_ACROSS_FILESYSTEM",
)
# `git --literal-pathspecs <command>` (Magit runs every git command so), and
# --glob-, --noglob- and --icase-pathspecs, export these to the hooks and to
# every git they start: kept, they would change what kitty-ops' own pathspecs
# mean (under GIT_LITERAL_PATHSPECS `:(top)kitty-ops/` names a file of that
# name: the orphans hook then saw nothing staged). Never passed to a git call,
# whatever environment it is given (see `start`).
PATHSPEC_VARIABLES = ("GIT_LITERAL_PATHSPECS", "GIT_GLOB_PATHSPECS", "GIT_NOGLOB_PATHSPECS",
                      "GIT_ICASE_PATHSPECS")

# No way to prompt. git runs in a session of its own, with no controlling
# terminal (`start`), and stdin from /dev/null; GIT_TERMINAL_PROMPT=0 stops
# git's own prompts. ssh and ssh-keygen (`gpg.format=ssh` signing: `ssh-keygen
# -Y sign`) ask for a key's passphrase on /dev/tty, else through SSH_ASKPASS:
# SSH_ASKPASS_REQUIRE=never forbids the latter (kept only when the user forces
# askpass, a passphrase supplied by a script), so that a key the ssh-agent does
# not hold fails at once with git's message instead of a dialog. GPG_TTY is
# where gpg-agent's pinentry would draw its prompt: the user's terminal. GIT_ASKPASS
# stays (pre-commit keeps it): the credential helper of CI jobs, for `sync`.
_NO_PROMPT_DROPPED = ("GPG_TTY",)


def _allowed(name: str) -> bool:
    return not name.startswith("GIT_") or name in _KEPT_GIT_VARIABLES or name.startswith(_KEPT_GIT_PREFIXES)


def allowed_environ(keep: tuple[str, ...] = ()) -> dict[str, str]:
    """This process's environment with git's own variables only as the allowlist
    (and `keep`) says: for a kitty-ops process started from a git hook."""
    return {name: value for name, value in os.environ.items() if _allowed(name) or name in keep}


def clean_env(keep: tuple[str, ...] = ()) -> dict[str, str]:
    """The environment every git call gets: `allowed_environ`, no way to prompt,
    no pager or editor."""
    env = allowed_environ(keep)
    for name in _NO_PROMPT_DROPPED:
        env.pop(name, None)
    env.update(_QUIET_ENV)
    if env.get("SSH_ASKPASS_REQUIRE", "").lower() != "force":
        env["SSH_ASKPASS_REQUIRE"] = "never"
    return env


def _env(extra: dict[str, str] | None) -> dict[str, str]:
    """The environment of a call that names no repository: `clean_env`, the
    repository as git gave it (in a hook: the commit being made) kept."""
    env = clean_env(REPOSITORY_VARIABLES)
    if extra:
        env.update(extra)
    return env
