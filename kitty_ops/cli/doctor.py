"""`kitty-ops doctor ops`: orphans, pending and invalid records, and the sweep."""
from __future__ import annotations

import click

from kitty_ops.cli.common import (
    echo_json,
    format_age,
    json_option,
    repo_option,
    use_color,
)
from kitty_ops.doctor import ops as doctor_ops
from kitty_ops.errors import EXIT_OK, EXIT_PROBLEM
from kitty_ops.lifecycle.owners import DEAD, RUNNING

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import Any


@click.group()
def doctor() -> None:
    """Check the health of what kitty-ops keeps."""


@doctor.command("ops")
@click.option(
    "--close-stale",
    is_flag=True,
    help="Complete stale orphans as abandoned (closed_by doctor_sweep), each with its Op commit.",
)
@click.option(
    "--threshold-hours",
    type=click.FloatRange(min=0),
    help="An orphan older than this is stale (default: git config kitty-ops.maxAgeHours, else 24).",
)
@json_option
@repo_option
def ops(repo: Path, close_stale: bool, threshold_hours: float | None, as_json: bool) -> int:
    """List Ops in progress (their owner runs), orphans (started, never
    completed, owner gone or unknown), pending records (completed, not
    committed) and invalid records. Exit 1 when an orphan, a pending or an
    invalid record is listed; with --close-stale, exit 0 when only fresh
    orphans remain. `--json` lists the Ops in progress under `in_progress`.

    \b
    Examples:
      kitty-ops doctor ops
      kitty-ops doctor ops --close-stale --threshold-hours 48
      kitty-ops doctor ops --json | jq '.orphans[].invocation_id'
    """
    from kitty_ops.lifecycle.threshold import max_age_hours

    threshold_hours = max_age_hours(repo, threshold_hours)
    closed = doctor_ops.close_stale(repo, threshold_hours) if close_stale else None
    report = doctor_ops.doctor_report(repo)
    # an open Op whose owner runs is in progress, not an orphan to abandon
    report["in_progress"] = [entry for entry in report["orphans"] if entry["owner_state"] == RUNNING]
    report["orphans"] = [entry for entry in report["orphans"] if entry["owner_state"] != RUNNING]
    for entry in report["orphans"]:
        entry["stale"] = doctor_ops.is_stale(entry, threshold_hours)
    locks = doctor_ops.stale_locks(repo)
    from kitty_ops.doctor.refhealth import ref_report

    shared = ref_report(repo)
    ref_trouble = bool(shared and (shared["problems"] or shared["conflicts"]))
    found = any(value for key, value in report.items() if key != "in_progress") or bool(locks) or ref_trouble
    if closed is not None:  # the sweep asked about stale orphans: fresh ones are not a problem
        orphans_left = any(entry["stale"] for entry in report["orphans"])
        failed = any(entry["result"] == "error" for entry in closed)
        found = orphans_left or failed or bool(report["pending"] or report["invalid"] or locks) or ref_trouble
    if as_json:
        extra = {"ref": shared} if shared is not None else {}
        echo_json({**report, "stale_locks": locks, **extra, **({"closed": closed} if closed is not None else {})})
        return EXIT_PROBLEM if found else EXIT_OK
    if closed is not None:
        _print_sweep(closed)
    for lock in locks:
        click.echo(_style(f"A stale lock left by a killed kitty-ops: {lock['path']}", fg="red", bold=True))
        click.echo(f"  the git commands (and Op commits) that need it cannot run until it is gone: {lock['command']}")
    if shared is not None:
        _print_ref_report(shared)
    if not (locks or ref_trouble) or any(report.values()):
        _print_report(report, threshold_hours)
    return EXIT_PROBLEM if found else EXIT_OK


def _print_ref_report(shared: dict[str, Any]) -> None:
    for problem in shared["problems"]:
        click.echo(_style(f"Ref mode: {problem['message']}", fg="yellow", bold=True))
        click.echo(f"  fix: {problem['command']}")
    for conflict in shared["conflicts"]:
        click.echo(_style(f"Conflicting copies: {conflict['path']}: {conflict['error']}", fg="red", bold=True))
        click.echo("  fix: keep the right copy by hand (records only grow), then kitty-ops sync")


def _style(text: str, **style: Any) -> str:
    return click.style(text, **style) if use_color() is not False else text


def _print_sweep(closed: list[dict[str, Any]]) -> None:
    if not closed:
        click.echo("No stale orphans to close.")
    for entry in closed:
        commit = f", committed {entry['commit'][:12]}" if entry["commit"] else ""
        detail = f" ({entry['detail']})" if entry["detail"] else ""
        click.echo(
            f"{entry['result']}: {entry['invocation_id']} {entry['profile_id']}: {entry['action']}, "
            f"{entry['stale_because']}{commit}{detail}"
        )


def _print_report(report: dict[str, Any], threshold_hours: float) -> None:
    if report["in_progress"]:
        click.echo(f"In progress (their owner runs): {len(report['in_progress'])}")
        _print_table("in_progress", report["in_progress"])
    if not any(value for key, value in report.items() if key != "in_progress"):
        click.echo(_style("All Op records are complete, committed and valid.", fg="green"))
        return
    if report["orphans"]:
        click.echo(_style(f"Orphans (started, never completed): {len(report['orphans'])}", fg="yellow", bold=True))
        _print_table("orphans", report["orphans"])
        stale = [entry for entry in report["orphans"] if entry["stale"]]
        if stale and all(entry["owner_state"] == DEAD for entry in stale):
            click.echo("  close every stale one (their owners are gone: at any age):"
                       " kitty-ops doctor ops --close-stale")
        elif stale:
            click.echo(
                f"  close every stale one: kitty-ops doctor ops --close-stale --threshold-hours {threshold_hours:g}"
            )
    if report["pending"]:
        click.echo(_style(f"Pending (completed, not committed): {len(report['pending'])}", fg="yellow", bold=True))
        _print_table("pending", report["pending"])
        click.echo("  commit them all: kitty-ops commit --pending")
    if report["invalid"]:
        click.echo(_style(f"Invalid records: {len(report['invalid'])}", fg="red", bold=True))
        for entry in report["invalid"]:
            click.echo(f"  {entry['path']}: {entry['error']}")
        click.echo("  fix: repair or remove the file by hand; kitty-ops validate checks it again")


def _state(entry: dict[str, Any]) -> str:
    if entry.get("stale"):
        return "stale"
    return "running" if entry["owner_state"] == "running" else "running?"


def _print_table(kind: str, entries: list[dict[str, Any]]) -> None:
    """One row per Op: id, age, profile, action, (orphans: owner, state,) the command that settles it."""
    orphans = kind in ("orphans", "in_progress")
    headers = ["ID", "AGE", "PROFILE", "ACTION", *(["OWNER", "STATE"] if orphans else []), "NEXT"]
    rows = [
        [
            entry["invocation_id"],
            format_age(entry["age_hours"]),
            entry["profile_id"],
            entry["action"],
            *([entry["owner_state"], _state(entry)] if orphans else []),
            doctor_ops.next_command(kind, entry),
        ]
        for entry in entries
    ]
    widths = [max(len(row[column]) for row in [headers, *rows]) for column in range(len(headers))]
    for row in [headers, *rows]:
        cells = [
            cell.rjust(width) if column == 1 else cell.ljust(width)  # ages align right
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        click.echo(("  " + "  ".join(cells)).rstrip())
