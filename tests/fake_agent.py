"""A stand-in for a coding agent, for tests/test_agents.py: a long-lived
process that runs the hooks installed in its configuration file as agents
do (`sh -c COMMAND`, the event JSON on stdin), one per line it reads:

    EVENT PAYLOAD_FILE SESSION_ID     run the hooks of EVENT (payload from the file)
    FORCE EVENT PAYLOAD_FILE SESSION  run kitty-ops' hook command even if EVENT has none installed
    RUN SHELL_COMMAND                 run a command as the agent's tool would
    exit                              exit normally

and answers each line with `<exit code> <bytes on stdout> <seconds>` (`none`
when nothing is installed for EVENT).

    python fake_agent.py CONFIG_FILE CWD
"""
import json
import subprocess
import sys
import time


def commands(config_file, event):
    with open(config_file) as handle:
        entries = json.load(handle).get("hooks", {}).get(event, [])
    found = []
    for entry in entries:
        handlers = entry.get("hooks", [entry])  # grouped (Claude, Codex, Gemini) or flat (Cursor)
        found += [handler["command"] for handler in handlers if handler.get("command")]
    return found


def every_command(config_file):
    with open(config_file) as handle:
        events = json.load(handle).get("hooks", {})
    return sorted({command for event in events for command in commands(config_file, event)})


def run(command, stdin, cwd):
    began = time.perf_counter()
    done = subprocess.run(["sh", "-c", command], input=stdin, cwd=cwd, capture_output=True)
    sys.stderr.buffer.write(done.stderr)
    return f"{done.returncode} {len(done.stdout)} {time.perf_counter() - began:.4f}"


def main():
    config_file, cwd = sys.argv[1], sys.argv[2]
    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "exit":
            break
        if words[0] == "RUN":
            print(run(line.split(None, 1)[1], b"", cwd), flush=True)
            continue
        force = words[0] == "FORCE"
        event, payload_file, session = words[1:4] if force else words[:3]
        with open(payload_file) as handle:
            payload = handle.read().replace("$SESSION", session).replace("$CWD", cwd).encode()
        found = every_command(config_file)[:1] if force else commands(config_file, event)
        answers = [run(command, payload, cwd) for command in found]
        print(" ; ".join(answers) or "none", flush=True)


main()
