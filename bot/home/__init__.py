"""The App Home's domain: when a person's Home must be published again (state.py), what
changes it (versions.py) and the overnight refresh (refresh.py). No Slack here."""
