"""kitty-ops-audit: a pre-push hook that keeps bad history under kitty-ops/ off the remote.

It audits exactly the commits being pushed (`kitty-ops audit` on them): from
pre-commit's PRE_COMMIT_FROM_REF to PRE_COMMIT_TO_REF, minus whatever the
remote (PRE_COMMIT_REMOTE_NAME) already has, so a new branch is audited for
what the remote lacks. Run by hand (`pre-commit run --hook-stage manual
kitty-ops-audit`), it audits what no remote-tracking branch has yet.

A push that deletes a branch (PRE_COMMIT_TO_REF all zeros) publishes
nothing: it passes. History the audit cannot read (a shallow boundary in the
pushed range, a blob a partial clone lacks) blocks the push with one line
naming the fetch that brings it.
"""
from __future__ import annotations

import argparse
import os

from kitty_ops.errors import KittyOpsError
from kitty_ops.queries import audit as _audit
from kitty_ops.queries.audit import audit, is_zero_id

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

ZERO_ID = "0" * 40


def remote_tips(remote: str | None) -> list[str]:
    """The commits the remote-tracking branches of `remote` (all remotes when None) point at."""
    return _audit.remote_tips(".", remote)


def revisions_to_push(environ: Mapping[str, str]) -> list[str]:
    """The revisions `git log` reads as the commits this push publishes: none
    for a push that deletes a branch. An all-zero FROM_REF (a new branch; 40
    zeros, or 64 with SHA-256) names nothing: what the remote lacks is then
    what none of its remote-tracking branches has."""
    from_ref = environ.get("PRE_COMMIT_FROM_REF", "")
    to_ref = environ.get("PRE_COMMIT_TO_REF") or environ.get("PRE_COMMIT_LOCAL_BRANCH") or "HEAD"
    if is_zero_id(to_ref):
        return []
    remote = environ.get("PRE_COMMIT_REMOTE_NAME") or None
    revisions = [to_ref]
    if from_ref and not is_zero_id(from_ref):
        revisions.append(f"^{from_ref}")
    return revisions + [f"^{tip}" for tip in remote_tips(remote)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kitty-ops-audit",
        description="Block a push that would publish committed orphans, deleted, renamed or rewritten"
        " records, invalid lines, symbolic links or local files under kitty-ops/.",
    )
    parser.add_argument("--allow-healed", action="store_true",
                        help="kept for old configurations: a healed finding is always only a warning")
    parser.add_argument("--shallow-ok", action="store_true",
                        help="in a shallow clone, audit what it has and leave out its boundary commits")
    parser.add_argument("filenames", nargs="*", help="ignored: the hook asks git what is pushed")
    args = parser.parse_args(argv)
    revisions = revisions_to_push(os.environ)
    if not revisions:
        return 0  # a branch deletion publishes no commit
    try:
        report = audit(".", revisions, shallow_ok=args.shallow_ok)
    except (OSError, KittyOpsError) as exc:
        print(f"kitty-ops-audit: cannot audit the pushed commits: {exc}")
        return 1
    warning = report.shallow_warning()
    if warning:
        print(warning)
    for finding in report.findings:
        for line in finding.lines():
            print(line)
    if report.problems:
        print(report.summary())
        print("The push is blocked: run each repair command shown (each makes a new commit; history is never"
              " rewritten for you), then push again.")
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
