"""Agent sessions as Ops: the hooks kitty-ops installs into coding agents'
configurations, and what those hooks do when the agent runs them.

- `spec`: what every agent module declares (`AgentSpec`), and the registry;
- `jsonconfig`: reading and writing an agent's JSON configuration untouched
  but for kitty-ops' own entries;
- `grouped` (Claude Code, Codex CLI, Gemini CLI: event -> [{matcher, hooks}])
  and `cursor` (`{"version": 1, "hooks": {event: [{command}]}}`): the formats;
- `claude`, `codex`, `gemini`, `cursor`, `aider`: one module per agent;
- `sessions`: the session -> Op map and the last-fired stamps (in the git
  common directory, never committed);
- `hook`: `kitty-ops agents hook <agent>`, which opens and completes the Ops;
- `manage`: install, uninstall and status.
"""
