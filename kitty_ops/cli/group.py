"""The `kitty-ops` click group: a thin layer over the library.

Subcommands live in modules of this package, loaded only when run, so that a
quick command does not pay for importing every other one.
"""
from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from kitty_ops.errors import EXIT_PROBLEM, EXIT_USAGE, KittyOpsError
from kitty_ops.system.warn import print_warnings_to_stderr

COMMANDS = {
    "start": "kitty_ops.cli.ops:start",
    "complete": "kitty_ops.cli.ops:complete",
    "run": "kitty_ops.cli.run:run",
    "commit": "kitty_ops.cli.ops:commit",
    "list": "kitty_ops.cli.read:list_command",
    "show": "kitty_ops.cli.read:show",
    "log": "kitty_ops.cli.history:log_command",
    "report": "kitty_ops.cli.report:report",
    "audit": "kitty_ops.cli.audit:audit_command",
    "doctor": "kitty_ops.cli.doctor:doctor",
    "validate": "kitty_ops.cli.validate:validate",
    "reindex": "kitty_ops.cli.reindex:reindex",
    "init": "kitty_ops.cli.init:init",
    "schema": "kitty_ops.cli.schema:schema",
    "demo": "kitty_ops.cli.demo:demo",
    "sync": "kitty_ops.cli.sync:sync_command",
    "uninstall": "kitty_ops.cli.uninstall:uninstall",
    "agents": "kitty_ops.cli.agents:agents",
}


def _error(message: str) -> None:
    click.echo(f"kitty-ops: error: {message}", err=True)


class KittyOpsGroup(click.Group):
    """Loads subcommands lazily and reports every failure as one line on stderr."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        target = COMMANDS.get(name)
        if target is None:
            return None
        module, attribute = target.split(":")
        return getattr(importlib.import_module(module), attribute)

    def main(
        self,
        args: Any = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        print_warnings_to_stderr()
        try:
            from kitty_ops.settings import check_environment

            check_environment()  # before any subcommand imports what reads it
            code = super().main(args, prog_name or "kitty-ops", complete_var, False, **extra)
        except click.UsageError as exc:
            if exc.ctx is not None and type(exc).__name__ == "NoArgsIsHelpError":  # a bare `kitty-ops`
                click.echo(exc.ctx.get_help())
                sys.exit(0)
            hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
            _error(exc.format_message() + hint)
            code = EXIT_USAGE
        except click.ClickException as exc:
            _error(exc.format_message())
            code = exc.exit_code
        except KittyOpsError as exc:
            _error(str(exc))
            code = exc.exit_code
        except (click.Abort, KeyboardInterrupt):
            _error("interrupted")
            code = 130
        except BrokenPipeError:
            sys.stderr.close()
            code = EXIT_PROBLEM
        except Exception as exc:  # a bug: still one line, the traceback on request
            from kitty_ops.settings import debug_enabled

            if debug_enabled():
                raise
            _error(f"unexpected {type(exc).__name__}: {exc} (set KITTY_OPS_DEBUG=1 for details)")
            code = EXIT_PROBLEM
        sys.exit(code if isinstance(code, int) else 0)


@click.group("kitty-ops", cls=KittyOpsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="kitty-ops", prog_name="kitty-ops")
def cli() -> None:
    """Durable, auditable records of AI-agent operations (Ops), kept in git.

    \b
    Examples:
      kitty-ops run --profile implementer --action implement --artifacts changed -- ./agent.sh
      op=$(kitty-ops start --profile implementer --action implement)
      kitty-ops complete "$op" --outcome done
    """


def main(argv: list[str] | None = None) -> int:
    return cli.main(argv, prog_name="kitty-ops")
