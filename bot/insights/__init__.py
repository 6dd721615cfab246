"""Insights for the dashboard (bot/web/): what a page shows, as plain dataclasses.

Each function takes a session, the team, a `Window` (a calendar period of the viewer's
timezone, or a custom range) and `Filters`, and returns numbers: no Flask, no Slack, no HTML.
They read the kudos table today; the read model (summary tables) can answer them later behind
the same signatures, which is why each is narrow and period-based.
"""
