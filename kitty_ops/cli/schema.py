"""`kitty-ops schema`: JSON Schema of the record's events, for agents in other languages."""
from __future__ import annotations

import click

from kitty_ops.cli.common import echo_json
from kitty_ops.errors import EXIT_OK
from kitty_ops.record import EVENT_MODELS


@click.command()
@click.argument("event", required=False, type=click.Choice(sorted(EVENT_MODELS)))
def schema(event: str | None) -> int:
    """Print the JSON Schema of each event type (or of EVENT) that kitty-ops reads.

    A line that validates against its event's schema is one kitty-ops accepts.

    \b
    Example:
      kitty-ops schema started > started.schema.json
    """
    if event:
        echo_json(EVENT_MODELS[event].model_json_schema())
    else:
        echo_json({name: model.model_json_schema() for name, model in EVENT_MODELS.items()})
    return EXIT_OK
