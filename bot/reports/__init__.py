"""Reports over the kudos: calendar periods (`periods`), leaderboards and the principle report
(`leaderboard`), the CSV/JSON export (`export`) and the scope of a report (`scope`), shared by
the Slack commands and the CLI. Nothing here imports Slack."""
