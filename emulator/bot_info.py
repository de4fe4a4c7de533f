"""What the bot says about itself: getMe, its command menus and its descriptions."""

from __future__ import annotations

import json
import re
from typing import Any

from emulator.core import EmulatorCore
from emulator.registry import api
from emulator.validation import bad


class BotInfoMethods(EmulatorCore):
    """getMe, set/get/deleteMyCommands per scope and language, and the bot's descriptions."""

    @api("getMe")
    def _get_me(self, _params: dict[str, Any]) -> dict[str, Any]:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": not self.privacy_mode,
            "supports_inline_queries": True,
        }

    @staticmethod
    def _commands_key(params: dict[str, Any]) -> tuple[str, str]:
        """Command lists are kept per (scope, language), as Telegram keeps them."""
        scope = params.get("scope") or {"type": "default"}
        return json.dumps(scope, sort_keys=True), params.get("language_code") or ""

    @api("setMyCommands")
    def _set_my_commands(self, params: dict[str, Any]) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise bad('parameter "commands" is required')
        if len(commands) > 100:
            raise bad("BOT_COMMANDS_TOO_MUCH")
        for command in commands:
            if not isinstance(command, dict) or not re.fullmatch(
                r"[a-z0-9_]{1,32}", str(command.get("command", ""))
            ):
                raise bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[self._commands_key(params)] = commands
        return True

    @api("getMyCommands")
    def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.commands.get(self._commands_key(params), [])

    @api("deleteMyCommands")
    def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    def _set_description(self, params: dict[str, Any], name: str, limit: int) -> bool:
        text = params.get(name) or ""
        if len(text) > limit:
            raise bad(f"{name} is too long")
        self.descriptions[name, params.get("language_code") or ""] = text
        return True

    @api("setMyDescription")
    def _set_my_description(self, params: dict[str, Any]) -> bool:
        return self._set_description(params, "description", 512)

    @api("setMyShortDescription")
    def _set_my_short_description(self, params: dict[str, Any]) -> bool:
        return self._set_description(params, "short_description", 120)

    @api("getMyDescription")
    def _get_my_description(self, params: dict[str, Any]) -> dict[str, str]:
        key = ("description", params.get("language_code") or "")
        return {"description": self.descriptions.get(key, "")}

    @api("getMyShortDescription")
    def _get_my_short_description(self, params: dict[str, Any]) -> dict[str, str]:
        key = ("short_description", params.get("language_code") or "")
        return {"short_description": self.descriptions.get(key, "")}
