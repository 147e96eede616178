"""No secret reaches history: redaction before writing, the hooks and audit after.

Every fake secret below is built from pieces ("AKIA" + "...") so that this
file never holds one whole: scanners that read the repository see none.
"""
from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import kitty_ops
from kitty_ops.format import secret_build, secret_sources, secrets
from kitty_ops.format.rules import line_problem
from kitty_ops.lifecycle.propagator import record_error
from kitty_ops.record import parse_record

from .conftest import git

HEX = "0123456789abcdef"
ALNUM36 = "aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"
BODY = "MIIEowIBAAKCAQEA" + "q8Zx2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0CkTa8Ue2WqXo4Ri7Nb1Mc\n" * 3


def _key(kind: str, cut: bool = False) -> str:
    begin, end = "-----BEGIN " + kind + " PRIVATE" + " KEY", "-----END " + kind + " PRIVATE" + " KEY"
    tail = "" if cut else end + "-----"
    if kind == "PGP":
        begin, tail = begin + " BLOCK", "" if cut else end + " BLOCK-----"
    return f"{begin}-----\n{BODY}{tail}".replace("BEGIN  ", "BEGIN ").replace("END  ", "END ")


# (rule expected, text holding the secret, the secret)
SECRETS = [
    ("aws-access-key", "key id " + "AKIA" + "QYLPMN5HHHFPZAM2", "AKIA" + "QYLPMN5HHHFPZAM2"),
    ("aws-access-key", "ASIA" + "Y3FHKL7MNPQRSTUV is the session key", "ASIA" + "Y3FHKL7MNPQRSTUV"),
    ("aws-secret-access-key", "aws_secret_access_key = " + "Zx8Kq2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0Ck" + "Ta8Ue2Wq",
     "Zx8Kq2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0Ck" + "Ta8Ue2Wq"),
    ("github-token", "push with " + "ghp_" + ALNUM36, "ghp_" + ALNUM36),
    ("github-fine-grained-pat", "github_pat_" + (ALNUM36 * 3)[:82], "github_pat_" + (ALNUM36 * 3)[:82]),
    ("github-token", "gho_" + ALNUM36[::-1], "gho_" + ALNUM36[::-1]),
    ("github-token", "ghs_" + ALNUM36, "ghs_" + ALNUM36),
    ("github-token", "ghr_" + ALNUM36, "ghr_" + ALNUM36),
    ("gitlab-token", "glpat-" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn", "glpat-" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn"),
    ("gitlab-token", "glptt-" + HEX * 2 + HEX[:8], "glptt-" + HEX * 2 + HEX[:8]),
    ("gitlab-token", "gldt-" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn", "gldt-" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn"),
    ("gitlab-token", "GR1348941" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn", "GR1348941" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn"),
    ("slack-token", "xoxb-" + "1234567890-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx",
     "xoxb-" + "1234567890-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"),
    ("slack-token", "xoxp-" + "1234567890-1234567890-1234567890-" + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6",
     "xoxp-" + "1234567890-1234567890-1234567890-" + "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"),
    ("slack-app-token", "xapp-" + "1-A0123ABCDEF-1234567890123-" + "abcdef0123456789",
     "xapp-" + "1-A0123ABCDEF-1234567890123-" + "abcdef0123456789"),
    ("slack-token",
     "https://hooks.slack" + ".com/services/" + "T0AAAAAAA/B0BBBBBBB/" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1",
     "hooks.slack" + ".com/services/" + "T0AAAAAAA/B0BBBBBBB/" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1"),
    ("stripe-access-token", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
    ("stripe-access-token", "rk_test_" + "51HxYz2Lm9Pw4Rt7Yv3Bn6Hs", "rk_test_" + "51HxYz2Lm9Pw4Rt7Yv3Bn6Hs"),
    ("gcp-api-key", "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY", "AIza" + "SyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
    ("npm-access-token", "//registry/:_authToken=" + "npm_" + ALNUM36.lower(), "npm_" + ALNUM36.lower()),
    ("pypi-upload-token", "pypi-" + "AgEIcHlwaS5vcmc" + "CJGY2Q1ZTUtNjE3Ny00YzI5LWE5NzYtZjQ3YzEzOWY3ZWQ2AAIqWzMsIm",
     "pypi-" + "AgEIcHlwaS5vcmc" + "CJGY2Q1ZTUtNjE3Ny00YzI5LWE5NzYtZjQ3YzEzOWY3ZWQ2AAIqWzMsIm"),
    ("jwt", "Bearer " + "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0" + "."
     + "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
     "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" + "." + "eyJzdWIiOiIxMjM0NTY3ODkwIn0"),
    ("private-key", "key:\n" + _key("RSA"), BODY.split("\n")[0]),
    ("private-key", _key("EC"), BODY.split("\n")[0]),
    ("private-key", _key("DSA"), BODY.split("\n")[0]),
    ("private-key", _key("OPENSSH"), BODY.split("\n")[0]),
    ("private-key", _key("ENCRYPTED"), BODY.split("\n")[0]),
    ("private-key", _key(""), BODY.split("\n")[0]),
    ("private-key", _key("PGP"), BODY.split("\n")[0]),
    ("private-key", "cut short: " + _key("RSA", cut=True), BODY.split("\n")[0]),
    ("url-password", "clone postgres://admin:" + "S3cr3tPa55" + "@db.internal/app", "S3cr3tPa55"),
    ("url-password", "https://deploy:" + "hunter2pass" + "@example.org/repo.git", "hunter2pass"),
    ("password-assignment", "password=" + "hunter22", "hunter22"),
    ("password-assignment", 'DB_PASSWORD: "' + "correct-horse-battery" + '"', "correct-horse-battery"),
    ("gcp-oauth-client-secret", "GOCSPX-" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1Df5G", "GOCSPX-" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1Df5G"),
    ("sendgrid-api-token", "SG." + "Xy7Zq2Lm9Pw4Rt7Yv3Bn6H" + "." + "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0CkTa8Ue2WqXoR",
     "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0CkTa8Ue2WqXoR"),
    ("huggingface-access-token", "hf_" + "XyZqLmPwRtYvBnHsDfGjCkTaUeWqXoRiNb",
     "hf_" + "XyZqLmPwRtYvBnHsDfGjCkTaUeWqXoRiNb"),
    ("openai-api-key", "sk-" + "proj-" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0Ck", "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0Ck"),
    ("telegram-bot-api-token", "123456789" + ":AA" + "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0CkT",
     "Xy7Zq2Lm9Pw4Rt7Yv3Bn6Hs1Df5Gj0CkT"),
    ("shopify-access-token", "shpat_" + HEX * 2, "shpat_" + HEX * 2),
    ("digitalocean-token", "dop_v1_" + HEX * 4, "dop_v1_" + HEX * 4),
    ("generic-api-key", "api_key = " + "Zq8Xv2Lp9Wm4Rt7Yk3Bn", "Zq8Xv2Lp9Wm4Rt7Yk3Bn"),
]
# Random-looking, and no secret: kept as they are.
LOOKALIKES = [
    "01HZX3K5Q8M9N2P4R6S7T8V9W0",  # a ULID
    "Op 01J0A1B2C3D4E5F6G7H8J9K0MN completed",
    "token: 01HZX3K5Q8M9N2P4R6S7T8V9W0",
    "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
    "token=9fceb02d0ae598e95dc970b74767f19372d61af8",
    "secret: " + "a" * 10 + HEX * 2 + "b" * 22,
    "api_key=" + HEX * 4,
    "sha256:" + HEX * 4,
    "digest: sha256:" + HEX * 4,
    "request 123e4567-e89b-12d3-a456-426614174000",
    "access_token: 123e4567-e89b-12d3-a456-426614174000",
    "secret: aGVsbG8gd29ybGQsIHRoaXMgaXMgb3JkaW5hcnkgdGV4dA==",  # base64 of prose
    "AKIA" + "IOSFODNN7EXAMPLE",  # the documented example key id
    "password=$DB_PASSWORD",
    "password: ${PASSWORD}",
    "password=<your-password>",
    "password=********",
    "password: changeme",
    "PWD=/home/agent/project",
    "the password reset flow needs a token and a secret",
    "the key idea: rotate keys monthly",
    "max_tokens: 4096 and token_count=12345",
    "https://example.com/path?query=1",
    "https://user@example.com/repo.git",
    "git@github.com:org/repo.git",
    "ghp_short",
    "sk_live_abc",
    "eyJ is how a JWT starts",
    "-----BEGIN PUBLIC" + " KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUW\n-----END CERTIFICATE-----",
    "api_key = os.environ",
    "password=[REDACTED:password-assignment]",
    "kitty-ops/01HZX3K5Q8M9N2P4R6S7T8V9W0.jsonl",
    "refs/kitty-ops/records",
    "2026-01-02T03:04:05+00:00",
]


@pytest.mark.parametrize(("rule", "text", "secret"), SECRETS, ids=[f"{i}-{s[0]}" for i, s in enumerate(SECRETS)])
def test_every_secret_form_is_redacted_under_its_rule(rule, text, secret):
    redacted, ids = secrets.redact_text(text)
    assert secret not in redacted
    assert f"[REDACTED:{rule}]" in redacted and rule in ids


@pytest.mark.parametrize("text", LOOKALIKES)
def test_lookalikes_are_kept(text):
    assert secrets.redact_text(text) == (text, [])


def test_the_corpus_is_big_enough():
    assert len(SECRETS) >= 30 and len(LOOKALIKES) >= 30


def test_a_token_field_becomes_one_valid_word():
    event = {"event": "started", "profile_id": "ghp_" + ALNUM36, "action": "a"}
    redacted, ids = secrets.redact_event(event)
    assert redacted["profile_id"] == "REDACTED:github-token" and redacted["redacted"] == 1 and ids == ["github-token"]


def _all_git_bytes(root: Path) -> bytes:
    """Every object of the repository, its index and the work tree under kitty-ops/."""
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=root,
                             capture_output=True, check=True).stdout
    files = b"".join(path.read_bytes() for path in (root / "kitty-ops").iterdir() if path.is_file())
    return objects + (root / ".git" / "index").read_bytes() + files


def _assert_none_leaked(root: Path, texts: list[str]) -> None:
    everything = _all_git_bytes(root)
    for text in texts:
        assert text.encode() not in everything
        assert json.dumps(text)[1:-1].encode() not in everything


CORE = [*[s for s in SECRETS if s[0] != "private-key"][:12], SECRETS[22]]


def test_every_field_through_the_api_is_redacted_and_nothing_reaches_git(committed_repo):
    texts = [text for _, text, _ in CORE]
    fields = ("request_text", "actor", "mode_of_work", "model_id", "mission_id", "wp_id", "governance_context_hash")
    optional = {name: texts[i % len(texts)] for i, name in enumerate(fields)}
    started = kitty_ops.start("profile", "act", repo=committed_repo, **optional)
    assert started.redacted == len(fields)
    done = kitty_ops.complete(started.invocation_id, repo=committed_repo, evidence=texts[-1],
                              artifacts=[texts[1]], commit_sha=texts[2])
    assert done.commit
    record = parse_record((committed_repo / f"kitty-ops/{started.invocation_id}.jsonl").read_bytes(),
                          started.invocation_id)
    assert record.is_valid and record.completed.redacted == 1
    _assert_none_leaked(committed_repo, [secret for _, _, secret in CORE])
    lifecycle = (committed_repo / "kitty-ops/lifecycle.jsonl").read_text()
    assert "[REDACTED:" in lifecycle
    assert subprocess.run([sys.executable, "-m", "kitty_ops", "audit"], cwd=committed_repo).returncode == 0


def test_a_secret_in_a_token_field_never_reaches_the_commit_message(committed_repo):
    started = kitty_ops.start("ghp_" + ALNUM36, "act", repo=committed_repo)
    assert started.profile_id == "REDACTED:github-token"
    kitty_ops.complete(started.invocation_id, repo=committed_repo)
    subject = git(committed_repo, "log", "-1", "--format=%s")
    assert "REDACTED:github-token" in subject and ALNUM36 not in subject


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "kitty_ops", *args], cwd=root, capture_output=True, text=True)


def test_the_cli_redacts_and_says_so_in_one_line(committed_repo):
    secret_text = SECRETS[3][1] + " and " + SECRETS[0][1]
    started = _cli(committed_repo, "start", "--profile", "p", "--action", "a", "--request-text", secret_text)
    assert started.returncode == 0, started.stderr
    op_id = started.stdout.strip()
    lines = started.stderr.strip().splitlines()
    assert len(lines) == 1 and "redacted 2 secret(s)" in lines[0] and "aws-access-key, github-token" in lines[0]
    done = _cli(committed_repo, "complete", op_id, "--evidence", SECRETS[16][1])
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stderr.splitlines() if "redacted" in line] == [
        line for line in done.stderr.splitlines() if "stripe-access-token" in line]
    _assert_none_leaked(committed_repo, [SECRETS[3][2], SECRETS[0][2], SECRETS[16][2]])


# One CLI run per kind of text (multi-line, URL, assignment, token): the forms themselves are tested above.
@pytest.mark.parametrize(("rule", "text", "secret"), [SECRETS[i] for i in (21, 22, 29, 30, 32, 33)])
def test_every_form_through_the_cli(committed_repo, rule, text, secret):
    started = _cli(committed_repo, "start", "--profile", "p", "--action", "a", "--request-text", text)
    op_id = started.stdout.strip()
    assert _cli(committed_repo, "complete", op_id, "--evidence", text).returncode == 0
    _assert_none_leaked(committed_repo, [secret])


def test_kitty_ops_run_redacts(committed_repo):
    result = _cli(committed_repo, "run", "--profile", "p", "--action", "a", "--request-text", SECRETS[8][1],
                  "--", "true")
    assert result.returncode == 0, result.stderr
    assert "gitlab-token" in result.stderr
    _assert_none_leaked(committed_repo, [SECRETS[8][2]])


def test_lookalikes_survive_every_field(committed_repo):
    started = kitty_ops.start("p", "a", repo=committed_repo, request_text="\n".join(LOOKALIKES))
    done = kitty_ops.complete(started.invocation_id, repo=committed_repo, evidence=LOOKALIKES[3],
                              artifacts=[LOOKALIKES[0]])
    assert done.commit and started.redacted is None and started.request_text == "\n".join(LOOKALIKES)
    assert "redacted" not in (committed_repo / f"kitty-ops/{started.invocation_id}.jsonl").read_text()


def test_redact_false_keeps_and_allow_patterns_keep_what_they_find(committed_repo):
    git(committed_repo, "config", "kitty-ops.redactAllow", "^ghp_aB3")
    git(committed_repo, "config", "--add", "kitty-ops.redactAllow", "([bad")
    started = kitty_ops.start("p", "a", repo=committed_repo, request_text=SECRETS[3][1] + " " + SECRETS[0][1])
    assert SECRETS[3][2] in started.request_text and SECRETS[0][2] not in started.request_text
    git(committed_repo, "config", "kitty-ops.redact", "false")
    started = kitty_ops.start("p", "a", repo=committed_repo, request_text=SECRETS[0][1])
    assert started.request_text == SECRETS[0][1] and started.redacted is None


def test_the_propagation_error_log_is_redacted(committed_repo):
    (committed_repo / "kitty-ops").mkdir()
    record_error(str(committed_repo), "01HZX3K5Q8M9N2P4R6S7T8V9W0", "hook", "failed: " + SECRETS[3][1])
    text = (committed_repo / "kitty-ops/propagation-errors.jsonl").read_text()
    assert SECRETS[3][2] not in text and "[REDACTED:github-token]" in text


def _stage_leak(root: Path) -> tuple[str, str]:
    started = kitty_ops.start("p", "a", repo=root)
    path = f"kitty-ops/{started.invocation_id}.jsonl"
    line = {"event": "artifact_link", "invocation_id": started.invocation_id, "at": "2026-01-01T00:00:00+00:00",
            "kind": "x", "ref": SECRETS[3][1]}
    with open(root / path, "a") as handle:
        handle.write(json.dumps(line) + "\n")
    git(root, "add", path)
    return path, started.invocation_id


def test_the_hook_blocks_a_staged_secret_naming_file_line_and_rule_never_the_secret(committed_repo):
    path, _ = _stage_leak(committed_repo)
    result = subprocess.run([sys.executable, "-m", "kitty_ops.hooks.validate", path], cwd=committed_repo,
                            capture_output=True, text=True)
    assert result.returncode == 1
    assert f"{path}: line 2: ref holds a secret (rule github-token)" in result.stdout
    assert ALNUM36 not in result.stdout + result.stderr
    git(committed_repo, "config", "kitty-ops.redact", "false")
    assert subprocess.run([sys.executable, "-m", "kitty_ops.hooks.validate", path], cwd=committed_repo,
                          capture_output=True).returncode == 0


def test_audit_reports_a_committed_secret_and_never_heals_it(committed_repo):
    path, op_id = _stage_leak(committed_repo)
    git(committed_repo, "commit", "-q", "--no-verify", "-m", "leak")
    kitty_ops.complete(op_id, repo=committed_repo)  # a later commit of the same record
    result = _cli(committed_repo, "audit")
    assert result.returncode == 1
    assert f"{path}: Op {op_id}" in result.stdout and "line 2: ref (rule github-token) [secret]" in result.stdout
    assert "git filter-repo" in result.stdout and "rotate the key" in result.stdout
    secret_line = next(line for line in result.stdout.splitlines() if line.endswith("[secret]"))
    assert not secret_line.startswith("warning:") and "1 problem in 1 commit" in result.stdout  # never healed
    assert ALNUM36 not in result.stdout + result.stderr


def test_a_redacted_count_is_a_valid_field_and_a_bad_one_is_not():
    line = {"event": "commit_link", "invocation_id": "01HZX3K5Q8M9N2P4R6S7T8V9W0", "at": "2026-01-01T00:00:00Z",
            "sha": "x", "redacted": 2}
    assert line_problem(json.dumps(line).encode()) is None
    assert line_problem(json.dumps({**line, "redacted": -1}).encode()) == "redacted: must be a whole number >= 0"


def test_the_rule_table_is_what_the_builder_makes_of_the_rule_file():
    source = os.path.join(os.path.dirname(secret_build.HERE), secrets._table().SOURCE["file"])
    with open(source, "rb") as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == secrets._table().SOURCE["sha256"]
    with open(secret_build.TABLE_PATH, encoding="utf-8") as handle:
        assert handle.read() == secret_build.render(secret_build.build(source))


def test_the_detect_secrets_rules_are_what_the_builder_derives_from_the_installed_package():
    derived = secret_sources.detect_secrets_rules()
    table = secrets._table()
    assert table.DETECT_SECRETS["version"] == secret_sources.installed_version() == derived["version"]
    assert table.DETECT_SECRETS["plugins"] == derived["plugins"]
    ours = [rule for rule in table.RULES if rule[7].startswith("detect-secrets ")]
    assert ours == [tuple(rule) for rule in derived["rules"]]
    assert table.RULES[:len(ours)] == tuple(ours)  # first: where a supplement rule finds as wide, theirs is reported
    skipped = {key: reason for key, reason in table.SKIPPED.items() if key.startswith("detect-secrets:")}
    assert skipped == derived["skipped"]
    plugins = importlib.import_module("detect_secrets.core.plugins.util").get_mapping_from_secret_type_to_class()
    base = importlib.import_module("detect_secrets.plugins.base")
    for plugin in plugins.values():  # each pattern as it is, with its flags
        if plugin.__name__ in derived["plugins"]:
            theirs = [(rule[1], secret_sources.flags_value(rule[6])) for rule in ours
                      if rule[7].endswith(" " + plugin.__name__)]
            assert theirs == [(pattern.pattern, pattern.flags) for pattern in plugin.denylist]
        else:
            assert f"detect-secrets:{plugin.__name__}" in table.SKIPPED
            assert issubclass(plugin, base.RegexBasedDetector) == (plugin.__name__ in secret_sources.NOT_RUN)


def test_the_detect_secrets_licence_is_the_installed_one():
    with open(secret_sources.LICENCE_PATH, "rb") as handle:
        assert handle.read() == secret_sources.installed_licence()
    assert secrets._table().DETECT_SECRETS["licence"] == "format/secret_rules/detect-secrets.LICENSE"


def test_every_match_holds_a_keyword_of_its_rule():
    """The keywords derived from detect-secrets' patterns never keep a rule from what it would find."""
    for rule_id, regex, keywords, *_, flags, _origin in secrets._table().RULES:
        compiled = secrets._re(regex, flags)
        for _, text, _ in SECRETS:
            for match in compiled.finditer(text):
                assert not keywords or any(word in match.group(0).lower() for word in keywords), (rule_id, text)
    assert secret_sources.keywords("(ghp|gho)_[A-Z]{3}", 0) == ["gho_", "ghp_"]
    assert secret_sources.keywords(r"\d{8,10}:[0-9A-Za-z_-]{35}", 0) == [":"]
    assert secret_sources.keywords("[a-z]+", 0) == []
    assert secret_sources.secret_group("(ghp|gho)_[A-Za-z0-9_]{36}", 0) == -1
    assert secret_sources.secret_group("key='([0-9a-f]{40})'", 0) == 0


def test_a_secret_two_rules_find_is_redacted_whole_under_the_wider_rule():
    # detect-secrets' private-key rule finds the BEGIN line; the supplement's the whole block
    assert secrets.find(SECRETS[22][1]) == [(5, len(SECRETS[22][1]), "private-key")]
    # detect-secrets' JWT rule stops before the signature; the supplement's takes it
    redacted, ids = secrets.redact_text(SECRETS[21][1])
    assert redacted == "Bearer [REDACTED:jwt]" and ids == ["jwt"]
    # as wide (the supplement's slack-webhook-url too): detect-secrets' rule
    assert secrets.redact_text(SECRETS[15][1]) == ("[REDACTED:slack-token]", ["slack-token"])


def test_a_rule_run_line_by_line_finds_in_the_lines_holding_its_keyword():
    artifactory = "AKC" + "p8Zx2Lm9Pw4Rt7"
    text = "first line\nthe key " + artifactory + " here\nlast line"
    start = text.index(artifactory)
    assert secrets.find(text) == [(start - 1, start + len(artifactory) + 1, "artifactory-credentials")]
    assert secrets.find("x" + artifactory) == []


def test_go_syntax_is_translated():
    assert secret_build.translate("a(?i)b(c)d") == "a(?i:b(c)d)"
    assert secret_build.translate("(x(?i)y)z") == "(x(?i:y))z"
    assert secret_build.translate("[[:alnum:]]+\\z") == "[0-9A-Za-z]+\\Z"
    with pytest.raises(ValueError):
        secret_build.translate("\\p{L}")


def test_what_kitty_ops_writes_itself_and_plain_prose_run_no_rule(monkeypatch):
    # Short keywords (`:` of Telegram's tokens, `ac` of Twilio's) are in every
    # timestamp and in prose; the secrets they stand for are long words, so no
    # regex is compiled or run for them (start and complete stay cheap).
    monkeypatch.setattr(secrets, "_compiled", {})
    for text in ("2026-12-06T18:35:00.123456+00:00", "done", "agent", "implement",
                 "Add the login page: apply the class, clean the action, include the docs."):
        assert secrets.find(text) == []
    assert secrets._compiled == {}
