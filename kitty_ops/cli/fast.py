"""`kitty-ops start` and `kitty-ops complete` without importing click.

Agents run these for every Op, and click's import alone costs more than the
Op commit's git calls. The usual arguments are read here by hand; anything
else (help, a misspelt or malformed option, a missing value) returns None, and
the click command, which takes the same options, handles it and says what is
wrong. What the commands do lives in `kitty_ops.cli.actions`, shared by both.
"""
from __future__ import annotations

import sys

from kitty_ops.errors import EXIT_PROBLEM, KittyOpsError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

START_VALUES = {
    "--profile": "profile_id", "--action": "action", "--request-text": "request_text", "--actor": "actor",
    "--mode-of-work": "mode_of_work", "--mission-id": "mission_id", "--wp-id": "wp_id", "--model-id": "model_id",
    "--owner-pid": "owner_pid", "--repo": "repo",
}
COMPLETE_VALUES = {
    "--outcome": "outcome", "--evidence": "evidence_ref", "--commit-sha": "commit_sha", "--repo": "repo",
}
FLAGS = {"--json": "as_json", "--no-commit": "no_commit"}


def parse(args: list[str], values: dict[str, str], flags: tuple[str, ...], positional: int) -> dict[str, Any] | None:
    """Options by name, `artifacts` (repeatable) and `positional` bare words; None for
    anything unusual (click then parses it, and explains any mistake)."""
    found: dict[str, Any] = {"artifacts": [], "args": []}
    index = 0
    while index < len(args):
        arg = args[index]
        name, equals, value = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        if name in values:
            if not equals:
                if index + 1 >= len(args):
                    return None
                index += 1
                value = args[index]
            if name == "--artifact":
                found["artifacts"].append(value)
            elif values[name] in found:
                return None  # given twice: click decides
            else:
                found[values[name]] = value
        elif arg in flags and not equals:
            found[FLAGS[arg]] = True
        elif arg.startswith("-") or len(found["args"]) >= positional:
            return None
        else:
            found["args"].append(arg)
        index += 1
    return found if len(found["args"]) == positional else None


def _start(args: list[str]) -> int | None:
    found = parse(args, START_VALUES, ("--json",), 0)
    if found is None or "profile_id" not in found or "action" not in found:
        return None
    owner = found.pop("owner_pid", None)
    if owner is not None and not owner.lstrip("-").isdigit():
        return None
    from kitty_ops.cli.actions import resolve_records_top, start_op

    optional = {name: found.get(name) for name in START_VALUES.values()
                if name not in ("profile_id", "action", "owner_pid", "repo")}
    return start_op(resolve_records_top(found.get("repo")), found["profile_id"], found["action"],
                    None if owner is None else int(owner), bool(found.get("as_json")), optional,
                    found.get("repo") is not None)


def _complete(args: list[str]) -> int | None:
    found = parse(args, {**COMPLETE_VALUES, "--artifact": "artifacts"}, ("--json", "--no-commit"), 1)
    if found is None:
        return None
    from kitty_ops.cli.actions import complete_op, resolve_top, start_settings

    repo = resolve_top(found.get("repo"))
    settings = None if found.get("no_commit") else start_settings(repo)  # git reads config meanwhile
    from kitty_ops.format.rules import OUTCOMES

    outcome = found.get("outcome", "done")
    if outcome not in OUTCOMES:
        if settings is not None:
            from kitty_ops.gitio import git

            git.finish(settings, check=False)
        return None
    return complete_op(repo, found["args"][0], outcome, found.get("evidence_ref"), found["artifacts"],
                       found.get("commit_sha"), bool(found.get("no_commit")), bool(found.get("as_json")), settings)


COMMANDS = {"start": _start, "complete": _complete}


def run_fast(argv: list[str]) -> int | None:
    """The exit code of `kitty-ops start|complete ...`, or None to leave it to click."""
    if argv[:2] == ["agents", "hook"] and "--help" not in argv and "-h" not in argv:
        from kitty_ops.agents.hook import main as agent_hook  # on every prompt: no click; never fails

        return agent_hook(argv[2:])
    command = COMMANDS.get(argv[0]) if argv else None
    if command is None:
        return None
    from kitty_ops.system.warn import print_warnings_to_stderr

    print_warnings_to_stderr()
    try:
        from kitty_ops.settings import check_environment

        check_environment()  # before importing what reads it
        return command(argv[1:])
    except KittyOpsError as exc:
        print(f"kitty-ops: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kitty-ops: error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        sys.stderr.close()
        return EXIT_PROBLEM
    except Exception as exc:  # a bug: still one line, the traceback on request
        from kitty_ops.settings import debug_enabled

        if debug_enabled():
            raise
        print(f"kitty-ops: error: unexpected {type(exc).__name__}: {exc} (set KITTY_OPS_DEBUG=1 for details)",
              file=sys.stderr)
        return EXIT_PROBLEM

