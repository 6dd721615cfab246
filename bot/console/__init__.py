"""`missionbot console`: the whole bot in a terminal, with Slack played by a stand-in.

The real Bolt app, listeners, database, outbox and scheduler run as under `serve`; only Slack
is replaced. The pieces, each small:

- `workspace.py`: the demo workspace (you, six colleagues, #general and #support), and
  turning `@name` / `#channel` into Slack's IDs and back;
- `standin.py`: the Web API stand-in, an HTTP server on 127.0.0.1 that `SLACK_API_URL`
  points at, so the bot's own WebClient calls it; it keeps what the bot posted for the screen;
- `slackside.py`: Slack's side of the requests (slash commands, clicks, form submissions,
  events), shaped and signed as Slack does and handed to the bot's WSGI app in-process;
- `commands.py`: what a console line means (`/kudos …`, `as @carol`, `click 2`, …);
- `clock.py`: the console's movable clock (`clock tomorrow 09:00`);
- `render.py`: Block Kit drawn in the terminal with `rich` (plain text when not a terminal);
- `screen.py`: each thing that appeared, labelled (where, who, who alone sees it), numbered;
- `modal.py`: a modal asked field by field;
- `demo.py`: three months of plausible kudos for `--demo-data`;
- `schema.py`: whether the database is already migrated, without importing Alembic;
- `session.py`: the loop that reads lines, sends them to the bot and shows what came back;
- `start.py`: `run_console`, which builds the runtime against the stand-in and starts it.
"""
