"""Moving the target ref to the new tip: by compare-and-swap, so that a ref
that moved since the commits were prepared is never overwritten."""
from __future__ import annotations

from kitty_ops.errors import CommitSkipped
from kitty_ops.gitio import git, refs
from kitty_ops.opcommit import plumbing
from kitty_ops.opcommit.message import timestamp


def zero(oid: str | None) -> str:
    """The all-zeros id of `oid`'s length (SHA-1 or SHA-256): "no value" to update-ref."""
    return "0" * len(oid or "0" * 40)


class RefMover:
    """Moves a ref from `head` to `tip`, with its reflog: by `kitty_ops.gitio.refs`
    in the plain case (loose or packed refs, a known committer), else by
    `git update-ref`."""

    def __init__(self, repo: git.Repo, env: dict[str, str], config: dict[str, str | None],
                 identities: tuple[bytes, bytes] | None) -> None:
        self.repo = repo
        self.env = env
        self.config = config
        self.identities = identities

    def move_head(self, head: str | None, tip: str, message: str) -> None:
        """HEAD's branch (and HEAD's reflog)."""
        branch = git.head_branch(self.repo)
        log_all = self.config.get("core.logallrefupdates")
        if not (branch and self._move_plainly(branch, self.repo.git_path, head, tip, message, log_all)):
            plumbing.run(self.repo, self.env, ["update-ref", "-m", message, "HEAD", tip, head or zero(tip)])

    def move_ref(self, ref: str, head: str | None, tip: str, message: str) -> None:
        """A ref of kitty-ops' own, its reflog created."""
        if not self._move_plainly(ref, None, head, tip, message, "always"):
            plumbing.run(self.repo, self.env, ["update-ref", "--create-reflog", "-m", message, ref, tip,
                                               head or zero(tip)])

    def _move_plainly(self, ref: str, head_of: str | None, head: str | None, tip: str, message: str,
                      log_all: str | None) -> bool:
        """Move `ref` by `kitty_ops.gitio.refs` (with HEAD's reflog too when `head_of`,
        a git directory, has HEAD at it); False when git must."""
        if not (head and tip and self.identities is not None and refs.plain_case(self.repo.common_path, self.config)):
            return False
        try:
            refs.move_branch(self.repo.common_path, head_of, ref, tip, head,
                             self.identities[1] + b" " + timestamp(), message, log_all,
                             refs.lock_timeout_ms(self.config))
        except refs.Locked as exc:
            raise CommitSkipped(f"{ref} is locked: {exc}") from None
        except refs.Moved:
            raise CommitSkipped(f"{'HEAD' if head_of else ref} moved while committing (another program updated it)") \
                from None
        except refs.Unsupported:
            return False
        except OSError as exc:
            raise CommitSkipped(f"could not move {ref}: {exc.strerror or exc}") from None
        return True
