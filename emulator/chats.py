"""What the bot can ask about a chat: getChat, getChatMember, getChatAdministrators.

Membership comes from ``set_admins``: the creator, the administrators, everyone else a member.
"""

from __future__ import annotations

from typing import Any

from emulator.core import EmulatorCore
from emulator.registry import api
from emulator.state import Chat
from emulator.validation import bad

_ADMIN_RIGHTS = {
    "can_be_edited": False,
    "is_anonymous": False,
    "can_manage_chat": True,
    "can_delete_messages": True,
    "can_manage_video_chats": True,
    "can_restrict_members": True,
    "can_promote_members": False,
    "can_change_info": True,
    "can_invite_users": True,
    "can_post_stories": False,
    "can_edit_stories": False,
    "can_delete_stories": False,
    "can_pin_messages": True,
}


class ChatMethods(EmulatorCore):
    """Chat info and membership, as far as the bot's admin checks need them."""

    @api("getChat")
    def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        return {
            **self._chat_json(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _member_json(self, chat: Chat, user_id: int) -> dict[str, Any]:
        user = self.bot_user if user_id == self.bot_id else self._users.get(user_id)
        if user is None:
            raise bad("user not found")
        if user_id == chat.creator_id:
            return {"status": "creator", "user": dict(user), "is_anonymous": False}
        if user_id in chat.admin_ids:
            return {"status": "administrator", "user": dict(user), **_ADMIN_RIGHTS}
        return {"status": "member", "user": dict(user)}

    @api("getChatMember")
    def _get_chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._resolve_chat(params)
        if not isinstance(params.get("user_id"), int):
            raise bad("invalid user_id specified")
        return self._member_json(chat, params["user_id"])

    @api("getChatAdministrators")
    def _get_chat_administrators(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        chat = self._resolve_chat(params)
        if chat.type == "private":
            raise bad("there are no administrators in the private chat")
        ids = [*([chat.creator_id] if chat.creator_id is not None else []), *chat.admin_ids]
        return [self._member_json(chat, user_id) for user_id in dict.fromkeys(ids)]
