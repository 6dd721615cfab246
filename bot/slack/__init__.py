"""Everything that speaks Slack: the Bolt app, listeners, HTTP adapter and error handler."""
