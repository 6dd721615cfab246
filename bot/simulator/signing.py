"""Signing requests as Slack signs them, for whatever plays Slack's side against a running bot.

The signature is `v0=` + HMAC-SHA256 of `v0:{timestamp}:{body}` under the app's signing secret
(https://api.slack.com/authentication/verifying-requests-from-slack). The tests, the benchmarks
and the simulator's processes share one made-up secret so a bot started beside them accepts them.
"""

from __future__ import annotations

import hashlib
import hmac

SIGNING_SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


def sign(body: str, timestamp: int, secret: str = SIGNING_SECRET) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
