"""Real records written by spec-kitty: kitty-ops reads every one."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from kitty_ops.cli import cli
from kitty_ops.queries.listing import list_ops
from kitty_ops.record import read_record
from kitty_ops.store.index import record_ids

from .conftest import COMPAT_CORPUS

CORPUS_IDS = sorted(path.name[:-6] for path in COMPAT_CORPUS.glob("01*.jsonl"))
LEGACY_IDS = sorted(
    path.name[:-6] for path in COMPAT_CORPUS.glob("01*.jsonl") if '"action": ""' in path.read_text()
)


def test_the_corpus_is_what_its_readme_says():
    assert len(CORPUS_IDS) == 344
    assert len(LEGACY_IDS) == 7


def test_every_record_reads_without_problems(corpus_repo):
    records = [read_record(corpus_repo / "kitty-ops" / f"{op_id}.jsonl") for op_id in record_ids(corpus_repo)]
    assert len(records) == 344
    assert [(r.op_id, r.problems) for r in records if r.problems] == []
    assert all(r.started is not None and r.completed is not None for r in records)
    assert sum(len(r.links) for r in records) == 194 + 98


def test_list_shows_all_344_newest_first(corpus_repo):
    result = CliRunner().invoke(cli, ["list", "--limit", "1000", "--json"])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.output)
    assert [op["invocation_id"] for op in listed] == CORPUS_IDS[::-1]
    assert {op["status"] for op in listed} == {"done", "failed", "abandoned", "completed"}


def test_list_without_index_reads_the_files(corpus_repo):
    assert not (corpus_repo / "kitty-ops" / "ops-index.jsonl").exists()
    assert len(list_ops(corpus_repo)) == 344


@pytest.mark.parametrize("op_id", LEGACY_IDS)
def test_legacy_records_show_their_started_fields(corpus_repo, op_id):
    started, completed = map(json.loads, (COMPAT_CORPUS / f"{op_id}.jsonl").read_text().splitlines()[:2])
    outcome = completed["outcome"]
    result = CliRunner().invoke(cli, ["show", op_id])
    assert result.exit_code == 0, result.output
    assert f"profile   {started['profile_id']}" in result.output
    assert f"action    {started['action']}" in result.output
    assert f"completed: {outcome or 'no outcome recorded'} (by legacy record)" in result.output
    shown = json.loads(CliRunner().invoke(cli, ["show", op_id, "--json"]).output)
    assert shown["started"]["action"] == started["action"] != ""
    assert shown["completed"].get("outcome") == outcome
    assert shown["status"] == (outcome or "completed")
    assert "closed_by" not in shown["completed"]
    assert shown["problems"] == []
    assert shown["commit"]  # the corpus is committed in this repository
