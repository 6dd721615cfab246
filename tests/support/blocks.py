"""Block Kit helpers for tests: the words a message's blocks show, and Slack's length limits
for each kind of text (the language and pseudo-locale tests check every rendering against them)."""

from __future__ import annotations

from typing import Any

# Slack's limits in characters, per kind of text a block carries (Block Kit reference).
LIMITS = {"header": 150, "section": 3000, "context": 2000, "button": 75}


def texts(blocks: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each text the blocks show, with its kind: header, section, context or button."""
    found: list[tuple[str, str]] = []
    for block in blocks:
        kind = block["type"]
        if kind in {"header", "section"} and block.get("text"):
            found.append((kind, block["text"]["text"]))
        elif kind == "context":
            found += [("context", element["text"]) for element in block["elements"]]
        elif kind == "actions":
            found += [("button", element["text"]["text"]) for element in block["elements"]]
    return found
