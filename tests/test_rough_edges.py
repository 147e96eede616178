"""The rough edges a first user met, each run as that user ran it."""
from __future__ import annotations

from kitty_ops.lifecycle.executor import complete_invocation
from kitty_ops.queries.durations import format_duration

from .conftest import PROJECT_ROOT, git, kitty_ops_process, open_op, record


def one_line_error(result) -> str:
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("kitty-ops: error: "), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr


def test_validate_of_a_file_that_is_not_there_is_bad_input(committed_repo):
    result = kitty_ops_process("validate", "nonexist.jsonl", cwd=committed_repo)
    assert result.returncode == 2 and result.stdout == ""
    assert one_line_error(result) == "kitty-ops: error: nonexist.jsonl: no such file\n"


def test_validate_of_a_deleted_committed_record_still_checks_it(committed_repo):
    op_id = open_op(committed_repo)
    complete_invocation(committed_repo, op_id)
    record(committed_repo, op_id).unlink()
    result = kitty_ops_process("validate", f"kitty-ops/{op_id}.jsonl", cwd=committed_repo)
    assert result.returncode == 1 and "no such file" not in result.stderr


def test_log_since_garbage_is_bad_input(committed_repo):
    result = kitty_ops_process("log", "--since", "garbage", cwd=committed_repo)
    assert result.returncode == 2 and result.stdout == ""
    assert "--since 'garbage': not a date git understands" in one_line_error(result)
    assert kitty_ops_process("log", "--since", "2 weeks ago", cwd=committed_repo).returncode == 0


def test_start_with_a_repo_outside_git_is_refused_and_writes_nothing(tmp_path):
    target = tmp_path / "typo"
    target.mkdir()
    result = kitty_ops_process("start", "--profile", "p", "--action", "a", "--repo", str(target), cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "not in a git repository and has no kitty-ops/ directory" in one_line_error(result)
    assert list(target.iterdir()) == []


def test_start_with_a_repo_outside_git_works_once_init_made_kitty_ops_there(tmp_path):
    target = tmp_path / "records"
    target.mkdir()
    assert kitty_ops_process("init", "--repo", str(target), cwd=tmp_path).returncode == 0
    result = kitty_ops_process("start", "--profile", "p", "--action", "a", "--repo", str(target), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert record(target, result.stdout.strip()).is_file()


def test_close_stale_exits_0_when_only_fresh_orphans_remain(committed_repo):
    stale = open_op(committed_repo, hours_ago=30)
    fresh = open_op(committed_repo, hours_ago=0.1)
    result = kitty_ops_process("doctor", "ops", "--close-stale", cwd=committed_repo)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"closed: {stale}" in result.stdout and fresh in result.stdout
    again = kitty_ops_process("doctor", "ops", cwd=committed_repo)
    assert again.returncode == 1  # without the sweep, an orphan listed is still exit 1


def test_close_stale_exits_1_when_a_stale_orphan_could_not_be_closed(committed_repo):
    import resource

    stale = open_op(committed_repo, hours_ago=30)
    size = record(committed_repo, stale).stat().st_size

    def limited() -> None:  # its completed line cannot be written whole
        resource.setrlimit(resource.RLIMIT_FSIZE, (size + 20, size + 20))

    result = kitty_ops_process("doctor", "ops", "--close-stale", cwd=committed_repo, preexec_fn=limited)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"error: {stale}" in result.stdout


def test_list_has_column_headers_and_one_duration_form(committed_repo):
    done = open_op(committed_repo, hours_ago=30)
    complete_invocation(committed_repo, done)
    still_open = open_op(committed_repo, hours_ago=50)
    lines = kitty_ops_process("list", cwd=committed_repo).stdout.splitlines()
    assert lines[0].split() == ["ID", "STARTED", "TOOK", "STATUS", "PROFILE:", "ACTION"]
    # ages as a person reads them (`2 d ago`), durations as `format_duration` writes them
    assert lines[1].split()[:6] == [still_open, "2", "d", "ago", "-", "open"]
    assert lines[2].split()[:6] == [done, "30", "h", "ago", "1d06h", "done"]
    assert lines[0].index("STATUS") == lines[1].index("open") == lines[2].index("done")


def test_one_duration_form():
    assert [format_duration(s) for s in (0, 42, 61, 3599, 3600, 3660, 30 * 3600, 48 * 3600, 50.5 * 3600)] == [
        "0s", "42s", "1m", "59m", "1h00m", "1h01m", "1d06h", "2d00h", "2d02h"]


def test_a_bare_kitty_ops_prints_the_help_only(tmp_path):
    result = kitty_ops_process(cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: kitty-ops [OPTIONS] COMMAND [ARGS]...")
    assert "report" in result.stdout


def test_the_troubleshooting_command_undoes_a_staged_rewrite(committed_repo):
    op_id = open_op(committed_repo)
    complete_invocation(committed_repo, op_id)
    path = record(committed_repo, op_id)
    committed = path.read_text()
    path.write_text(committed.replace('"implement"', '"rewritten"'))
    git(committed_repo, "add", str(path))
    readme = (PROJECT_ROOT / "docs" / "troubleshooting.md").read_text()
    assert "`git restore --staged --worktree <path>` puts back the" in readme
    git(committed_repo, "restore", "--staged", "--worktree", f"kitty-ops/{op_id}.jsonl")
    assert path.read_text() == committed and git(committed_repo, "status", "--porcelain") == ""
    assert kitty_ops_process("validate", cwd=committed_repo).returncode == 0


def test_the_readme_says_which_commands_take_no_repo():
    readme = (PROJECT_ROOT / "docs" / "commands.md").read_text()
    assert "`schema` and `demo` do not work on one and take no `--repo`" in readme
    for command in ("schema", "demo"):
        result = kitty_ops_process(command, "--repo", ".", cwd=PROJECT_ROOT)
        assert result.returncode == 2 and "No such option" in result.stderr and "--repo" in result.stderr
    for command in ("list", "show", "log", "audit", "doctor ops", "validate", "reindex", "init", "report",
                    "start", "complete", "commit", "run"):
        result = kitty_ops_process(*command.split(), "--help", cwd=PROJECT_ROOT)
        assert "--repo DIR" in result.stdout, command
