"""The commits linked to an Op by the `Op-Id: <ULID>` trailer (`kitty_ops.hooks.link`)."""
from __future__ import annotations

from kitty_ops.gitio import git

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path

TRAILER = "Op-Id"


def linked_commits(repo: Path | str, op_id: str) -> list[dict[str, str]]:
    """The commits of every branch whose trailers say `Op-Id: <op_id>`, newest
    first: sha and subject. Empty outside git or in a repository with no commit."""
    if git.find_repo(repo) is None:
        return []
    result = git.run(
        ["log", "--all", "--fixed-strings", f"--grep={TRAILER}: {op_id}",
         f"--format=%H%x1f%s%x1f%(trailers:key={TRAILER},valueonly,separator=%x1e)%x1d"],
        repo, check=False,
    )
    commits = []
    for entry in result.stdout.decode(errors="replace").split("\x1d"):
        fields = entry.strip("\n").split("\x1f")
        if len(fields) == 3 and op_id in (value.strip() for value in fields[2].split("\x1e")):
            commits.append({"sha": fields[0], "subject": fields[1]})
    return commits
