"""The App Home view."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.views import View

from bot.blocks.common import context
from bot.blocks.mission import mission_blocks
from bot.mission import Catalog


def home_view(catalog: Catalog) -> dict[str, Any]:
    blocks = mission_blocks(catalog)
    blocks.append(context("Type `/mission help` in any channel to see what I can do."))
    return View(type="home", blocks=blocks).to_dict()
