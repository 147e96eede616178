"""What an Op commit says and who makes it: its message, the author and
committer, the time stamp, and the settings (signing, target ref) read from git config."""
from __future__ import annotations

import os
import time

from kitty_ops.format.layout import COMMIT_CONFIG, RECORDS_REF, SIGN_CONFIG, TARGET_CONFIG
from kitty_ops.gitio import git
from kitty_ops.settings import is_ref_target

OP_ID_TRAILER = "Op-Id"
_CRUD = "".join(map(chr, range(33))) + ".,:;<>\"\\'"  # what git strips from the ends of a name or email


def commit_subject(profile_id: str, action: str, op_id: str) -> str:
    return f"op({profile_id}): {action} [{op_id[:8]}]"


def commit_message(profile_id: str, action: str, op_id: str) -> str:
    """The subject, a blank line, and the `Op-Id: <ULID>` trailer."""
    return f"{commit_subject(profile_id, action, op_id)}\n\n{OP_ID_TRAILER}: {op_id}\n"


def wants_signing(config: dict[str, str | None]) -> bool:
    return SIGN_CONFIG.lower() in config and git.is_true(config[SIGN_CONFIG.lower()])


def target_ref(config: dict[str, str | None]) -> str | None:
    """RECORDS_REF in ref mode (`kitty-ops.target = ref`), None for the branch (HEAD)."""
    return RECORDS_REF if is_ref_target(config.get(TARGET_CONFIG.lower())) else None


def settings(
    repo: git.Repo, sign: bool | None, ref: str | bool | None, config: dict[str, str | None] | None
) -> tuple[bool, str | None, dict[str, str | None]]:
    """(sign, target ref, config) with what the caller left open (`sign` None,
    `ref` True) read from git config (`COMMIT_CONFIG`, unless given)."""
    if config is None:
        config = git.config_values(repo.top, list(COMMIT_CONFIG))
    sign = wants_signing(config) if sign is None else sign
    ref = target_ref(config) if ref is True else ref
    return sign, ref if isinstance(ref, str) else None, config


def python_identities(config: dict[str, str | None]) -> tuple[bytes, bytes] | None:
    """`Name <email>` of the author and the committer, as `git commit-tree` would
    take them from the environment and config; None wherever git's own rules
    go further (no configured name or email, a date or an encoding set, text
    git would clean up): the commit is then left to git."""
    encoding = config.get("i18n.commitencoding", "utf-8")
    if (encoding or "").lower() not in ("utf-8", "utf8") or os.environ.get("GIT_AUTHOR_DATE") is not None \
            or os.environ.get("GIT_COMMITTER_DATE") is not None:
        return None
    identities = []
    for role in ("author", "committer"):
        name = os.environ.get(f"GIT_{role.upper()}_NAME", config.get(f"{role}.name") or config.get("user.name"))
        email = os.environ.get(f"GIT_{role.upper()}_EMAIL", config.get(f"{role}.email") or config.get("user.email"))
        if not name or not email or any(value != value.strip(_CRUD) or "<" in value or ">" in value
                                        or "\n" in value for value in (name, email)):
            return None
        identities.append(f"{name} <{email}>".encode(errors="surrogateescape"))
    return identities[0], identities[1]


def timestamp() -> bytes:
    """`<seconds> <+hhmm>` now, in the local time zone, as git writes it."""
    now = int(time.time())
    offset = time.localtime(now).tm_gmtoff // 60
    sign = "+" if offset >= 0 else "-"
    return f"{now} {sign}{abs(offset) // 60:02d}{abs(offset) % 60:02d}".encode()

