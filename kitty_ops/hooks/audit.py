"""kitty-ops-audit: a pre-push hook that keeps bad history under kitty-ops/ off the remote.

It audits exactly the commits being pushed (`kitty-ops audit` on them): from
pre-commit's PRE_COMMIT_FROM_REF to PRE_COMMIT_TO_REF, minus whatever the
remote (PRE_COMMIT_REMOTE_NAME) already has, so a new branch is audited for
what the remote lacks. Run by hand (`pre-commit run --hook-stage manual
kitty-ops-audit`), it audits what no remote-tracking branch has yet.
"""
from __future__ import annotations

import argparse
import os

from kitty_ops import git
from kitty_ops.audit import audit
from kitty_ops.errors import KittyOpsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ZERO_ID = "0" * 40


def remote_tips(remote: str | None) -> list[str]:
    """The commits the remote-tracking branches of `remote` (all remotes when None) point at."""
    pattern = f"refs/remotes/{remote}/" if remote else "refs/remotes/"
    raw = git.output(["for-each-ref", "--format=%(objectname)", pattern], ".")
    return sorted(set(raw.split()))


def revisions_to_push(environ: Mapping[str, str]) -> list[str]:
    """The revisions `git log` reads as the commits this push publishes."""
    from_ref = environ.get("PRE_COMMIT_FROM_REF", "")
    to_ref = environ.get("PRE_COMMIT_TO_REF") or environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    remote = environ.get("PRE_COMMIT_REMOTE_NAME") or None
    revisions = [to_ref]
    if from_ref and from_ref != ZERO_ID:
        revisions.append(f"^{from_ref}")
    return revisions + [f"^{tip}" for tip in remote_tips(remote)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kitty-ops-audit",
        description="Block a push that would publish committed orphans, deleted, renamed or rewritten"
        " records, invalid lines, symbolic links or local files under kitty-ops/.",
    )
    parser.add_argument("--allow-healed", action="store_true",
                        help="a committed orphan that a later pushed commit completes is only a warning")
    parser.add_argument("filenames", nargs="*", help="ignored: the hook asks git what is pushed")
    args = parser.parse_args(argv)
    try:
        report = audit(".", revisions_to_push(os.environ), allow_healed=args.allow_healed)
    except (OSError, KittyOpsError) as exc:
        print(f"kitty-ops-audit: cannot audit the pushed commits: {exc}")
        return 1
    for finding in report.findings:
        for line in finding.lines():
            print(line)
    if report.problems:
        print(report.summary())
        print("The push is blocked: repair with new commits as shown (history is never rewritten for you).")
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
