"""Test helpers: a fake Slack Web API, a Slack-like client that signs requests, databases."""
