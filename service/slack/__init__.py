"""The Slack bot: mentions, DMs, thread follow-ups and /ask, on top of the answer engine."""
