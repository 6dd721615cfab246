"""missionbot: a Slack bot that keeps a company's mission and principles in daily work."""

__version__ = "0.1.0"
