"""Reports over the kudos: calendar periods (`periods`), leaderboards and the principle report
(`leaderboard`) and the CSV/JSON export (`export`), used by the Slack commands and the CLI.
Nothing here imports Slack."""
