"""Kudos: the `/kudos` grammar (`grammar`) and the service (`service`): rules, the atomic daily
allowance, undo, tallies. Nothing here imports Slack."""
