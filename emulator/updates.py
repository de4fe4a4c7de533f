"""How updates reach the bot: getUpdates long polling, or a webhook the emulator POSTs to.

Like Telegram, the two are exclusive (getUpdates answers 409 while a webhook is set), and a
second long poll terminates the first with 409. Unlike Telegram, a failed webhook delivery is
not retried: the update stays pending and the error shows in getWebhookInfo.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from types import EllipsisType
from typing import Any
from urllib.parse import urlsplit

import httpx

from emulator.core import EmulatorCore
from emulator.registry import api
from emulator.state import Webhook, WebhookDelivery
from emulator.validation import ApiError, bad

_LOG = logging.getLogger(__name__)


class UpdateMethods(EmulatorCore):
    """getUpdates, setWebhook, deleteWebhook, getWebhookInfo and the webhook delivery loop."""

    @api("getUpdates")
    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        """Confirm updates below ``offset``, then return pending ones or wait up to
        ``timeout`` seconds for one (a long poll)."""
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use "
                "deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        offset = params.get("offset", 0)
        if offset > 0:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        elif offset < 0:
            self._pending = self._pending[offset:]
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = max(params.get("timeout", 0), 0)
        self._wake_poller(superseded=True)
        if not self._pending and timeout and not self._closing:
            poller = self._poller = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait({poller}, timeout=timeout)
            finally:
                if self._poller is poller:
                    self._poller = None
            if poller.done() and not poller.result():
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one "
                    "bot instance is running",
                )
        return self._pending[:limit]

    def _set_allowed_updates(self, value: Any) -> None:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad("can't parse allowed_updates JSON object")
        self._allowed_updates = frozenset(value) if value else None

    @api("setWebhook")
    def _set_webhook(self, params: dict[str, Any]) -> bool:
        url = params.get("url") or ""
        if not url:
            return self._delete_webhook(params)
        parts = urlsplit(url)
        local = parts.hostname in ("127.0.0.1", "localhost", "::1")
        if not (parts.scheme == "https" or (parts.scheme == "http" and local)):
            raise bad("bad webhook: An HTTPS URL must be provided for webhook")
        if not local and parts.port not in (None, 80, 88, 443, 8443):
            raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token") or None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise bad("secret token contains unallowed characters")
        if "allowed_updates" in params:
            self._set_allowed_updates(params["allowed_updates"])
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self._webhook = Webhook(
            url, secret, int(params.get("max_connections", 40)), params.get("ip_address")
        )
        self._wake_poller()
        for update in self._pending:
            self._outbox.put_nowait(update)
        return True

    @api("deleteWebhook")
    def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self._webhook = None
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    @api("getWebhookInfo")
    def _get_webhook_info(self, _params: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self._webhook is not None:
            hook = self._webhook
            info.update(url=hook.url, max_connections=hook.max_connections)
            if hook.ip_address:
                info["ip_address"] = hook.ip_address
            if hook.last_error_date is not None:
                info.update(
                    last_error_date=hook.last_error_date,
                    last_error_message=hook.last_error_message,
                )
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    async def _deliver_forever(self) -> None:
        """Deliver injected updates to the webhook as Telegram does: up to the webhook's
        max_connections at once, one chat's updates one at a time and in order."""
        lanes: dict[object, asyncio.Lock] = {}
        tasks: set[asyncio.Task[None]] = set()
        while True:
            update = await self._outbox.get()
            lane = lanes.setdefault(_lane(update), asyncio.Lock())
            task = asyncio.create_task(self._deliver(update, lane))
            tasks.add(task)  # a reference, so the task is not collected mid-flight
            task.add_done_callback(tasks.discard)

    async def _deliver(self, update: dict[str, Any], lane: asyncio.Lock) -> None:
        async with lane:  # waiters wake in creation order: a chat's updates stay in order
            hook = self._webhook
            if hook is None or update not in self._pending:
                return
            if self._connections is None or self._connections[0] != hook.max_connections:
                self._connections = (hook.max_connections, asyncio.Semaphore(hook.max_connections))
            async with self._connections[1]:
                try:
                    delivery = await self.post_to_webhook(update)
                except Exception:
                    _LOG.exception("webhook delivery of update %s failed", update["update_id"])
                    return
            if delivery.ok:
                if update in self._pending:
                    self._pending.remove(update)
            else:
                hook.last_error_date = int(time.time())
                hook.last_error_message = delivery.error

    async def post_to_webhook(
        self, update: dict[str, Any], *, secret_token: str | EllipsisType | None = ...
    ) -> WebhookDelivery:
        """POST an update to the webhook now, with the configured secret unless one is given
        (None sends no secret header); records and returns the delivery."""
        webhook = self._webhook
        if webhook is None or self._http is None:
            raise RuntimeError("no webhook is set, or the emulator is not running")
        secret = webhook.secret_token if secret_token is ... else secret_token
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
        try:
            response = await self._http.post(webhook.url, json=update, headers=headers)
        except httpx.HTTPError as exc:
            delivery = WebhookDelivery(update["update_id"], webhook.url, secret, 0, repr(exc))
        else:
            status = response.status_code
            error = None if 200 <= status < 300 else f"Wrong response from the webhook: {status}"
            delivery = WebhookDelivery(update["update_id"], webhook.url, secret, status, error)
        self.webhook_deliveries.append(delivery)
        self._notify()
        return delivery


def _lane(update: dict[str, Any]) -> object:
    """The chat an update belongs to (for an inline query, its user): its delivery lane."""
    for key, value in update.items():
        if not isinstance(value, dict):
            continue
        message = value.get("message") if key == "callback_query" else value
        chat = message.get("chat") if isinstance(message, dict) else None
        if isinstance(chat, dict) and "id" in chat:
            return chat["id"]
        sender = value.get("from")
        if isinstance(sender, dict) and "id" in sender:
            return ("user", sender["id"])
    return ("update", update.get("update_id"))
