"""The principle of the day and the weekly digest: subscriptions and claims (`schedule`), which
principle a date gets (`rotation`), the digest (`digest`), the posting flow against a sender
(`flows`) and the jobs that run it on a clock (`jobs`). Nothing here imports Slack."""
