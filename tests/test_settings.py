"""The environment variables: each bad value is one line and exit 2, for every
command and hook, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kitty_ops.errors import InvalidInput
from kitty_ops.settings import flag_from_env, seconds_from_env

from .conftest import PROJECT_ROOT, env_with_scripts, kitty_ops_process, open_op, record

HOOK_SCRIPTS = ("kitty-ops-orphans", "kitty-ops-validate", "kitty-ops-audit", "kitty-ops-post-commit")


@pytest.mark.parametrize("script", HOOK_SCRIPTS)
def test_a_bad_git_timeout_is_one_line_and_exit_2_for_every_hook(committed_repo, script):
    env = {**env_with_scripts(), "KITTY_OPS_GIT_TIMEOUT": "abc"}
    result = subprocess.run([script], cwd=committed_repo, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr == (
        f"{script}: error: KITTY_OPS_GIT_TIMEOUT='abc': not a number of seconds greater than 0 (default 60)\n"
    )
    assert result.stdout == ""


def test_a_bad_git_timeout_is_one_line_and_exit_2_for_the_post_complete_script(committed_repo):
    env = {**env_with_scripts(), "KITTY_OPS_GIT_TIMEOUT": "0"}
    result = subprocess.run([sys.executable, str(PROJECT_ROOT / "hooks" / "kitty-ops-post-complete"),
                             "01KTK4DFAS04MCX5GP1W2R6NEP"], cwd=committed_repo, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stderr.count("\n") == 1
    assert "KITTY_OPS_GIT_TIMEOUT='0': not a number of seconds greater than 0" in result.stderr


@pytest.mark.parametrize(("name", "value", "message"), [
    ("KITTY_OPS_GIT_TIMEOUT", "abc",
     "KITTY_OPS_GIT_TIMEOUT='abc': not a number of seconds greater than 0 (default 60)"),
    ("KITTY_OPS_HOOK_TIMEOUT", "-5",
     "KITTY_OPS_HOOK_TIMEOUT='-5': not a number of seconds greater than 0 (default 120)"),
    ("KITTY_OPS_DEBUG", "maybe", "KITTY_OPS_DEBUG='maybe': not 1 or 0 (true/false, yes/no, on/off)"),
])
def test_a_bad_value_is_one_line_and_exit_2_for_the_cli(committed_repo, name, value, message):
    result = kitty_ops_process("list", cwd=committed_repo, env={**os.environ, name: value})
    assert result.returncode == 2
    assert result.stderr == f"kitty-ops: error: {message}\n" and result.stdout == ""


def test_good_values_are_taken(monkeypatch):
    monkeypatch.setenv("KITTY_OPS_GIT_TIMEOUT", " 2.5 ")
    assert seconds_from_env("KITTY_OPS_GIT_TIMEOUT", 60) == 2.5
    monkeypatch.setenv("KITTY_OPS_GIT_TIMEOUT", "")
    assert seconds_from_env("KITTY_OPS_GIT_TIMEOUT", 60) == 60
    for value, meant in (("1", True), ("yes", True), ("0", False), ("off", False), ("", False)):
        monkeypatch.setenv("KITTY_OPS_DEBUG", value)
        assert flag_from_env("KITTY_OPS_DEBUG") is meant
    for bad in ("nan", "inf", "0", "-1", "1e999"):
        monkeypatch.setenv("KITTY_OPS_GIT_TIMEOUT", bad)
        with pytest.raises(InvalidInput):
            seconds_from_env("KITTY_OPS_GIT_TIMEOUT", 60)


def test_debug_0_means_off(committed_repo):
    result = kitty_ops_process("list", cwd=committed_repo, env={**os.environ, "KITTY_OPS_DEBUG": "0"})
    assert result.returncode == 0 and result.stderr == ""


def test_a_post_complete_hook_that_does_not_exist_leaves_the_op_pending_with_one_warning(committed_repo):
    op_id = open_op(committed_repo)
    env = {**os.environ, "KITTY_OPS_POST_COMPLETE_HOOK": "no-such-hook-command"}
    result = kitty_ops_process("complete", op_id, cwd=committed_repo, env=env)
    assert result.returncode == 0  # a failing hook never fails the completion
    assert result.stderr.count("\n") == 1
    assert ("KITTY_OPS_POST_COMPLETE_HOOK='no-such-hook-command': no such executable "
            "(a path to one, or a command on PATH)") in result.stderr
    assert "kitty-ops commit --pending" in result.stderr
    assert '"event": "completed"' in record(committed_repo, op_id).read_text()


def test_the_readme_documents_every_variable():
    readme = (PROJECT_ROOT / "docs" / "environment.md").read_text()
    for name in ("KITTY_OPS_GIT_TIMEOUT", "KITTY_OPS_HOOK_TIMEOUT", "KITTY_OPS_DEBUG", "KITTY_OPS_POST_COMPLETE_HOOK"):
        assert f"| `{name}` |" in readme


def test_every_setting_is_defined_once_in_settings_and_documented():
    """Every `KITTY_OPS_*` variable and `kitty-ops.*` config key the code names is
    one of settings.ENVIRONMENT / settings.CONFIG, and the docs list each."""
    import re

    from kitty_ops import settings

    from .conftest import PROJECT_ROOT

    named = set()
    for path in (PROJECT_ROOT / "kitty_ops").rglob("*.py"):
        text = path.read_text()
        named |= set(re.findall(r"\bKITTY_OPS_[A-Z_]+\b", text))
        named |= set(re.findall(r"\bkitty-ops\.[a-z][A-Za-z]+\b", text)) - {"kitty-ops.since", "kitty-ops.invalid"}
    assert named <= set(settings.ENVIRONMENT) | set(settings.CONFIG), named - set(settings.ENVIRONMENT)
    page = (PROJECT_ROOT / "docs" / "environment.md").read_text()
    missing = [name for name in [*settings.ENVIRONMENT, *settings.CONFIG] if name not in page]
    assert missing == []
