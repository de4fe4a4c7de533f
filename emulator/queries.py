"""The bot's answers to inline queries and callback queries (button presses).

A query id is answerable once, and only with the matching method, as in Telegram; answers are
kept in ``inline_answers`` and ``callback_answers`` for the tests.
"""

from __future__ import annotations

from typing import Any

from emulator.core import EmulatorCore
from emulator.entities import utf16_len
from emulator.registry import api
from emulator.validation import bad, check_inline_result

MAX_INLINE_RESULTS = 50
MAX_CALLBACK_ANSWER_LENGTH = 200
_QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class QueryMethods(EmulatorCore):
    """answerInlineQuery and answerCallbackQuery."""

    @api("answerInlineQuery")
    def _answer_inline_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("inline_query_id") or "")
        results = params.get("results")
        if not isinstance(results, list):
            raise bad('parameter "results" is required')
        for result in results:
            check_inline_result(result)
        if len(results) > MAX_INLINE_RESULTS:
            raise bad("RESULTS_TOO_MUCH")
        ids = [result["id"] for result in results]
        if len(set(ids)) != len(ids):
            raise bad("RESULT_ID_DUPLICATE")
        if len(str(params.get("next_offset", "")).encode()) > 64:
            raise bad("NEXT_OFFSET_INVALID")
        if self._open_queries.get(query_id) != "inline":
            raise bad(_QUERY_TOO_OLD)
        del self._open_queries[query_id]
        self.inline_answers[query_id] = {k: v for k, v in params.items() if k != "inline_query_id"}
        return True

    @api("answerCallbackQuery")
    def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        text = params.get("text")
        if isinstance(text, str) and utf16_len(text) > MAX_CALLBACK_ANSWER_LENGTH:
            raise bad("MESSAGE_TOO_LONG")
        if self._open_queries.get(query_id) != "callback":
            raise bad(_QUERY_TOO_OLD)
        del self._open_queries[query_id]
        self.callback_answers[query_id] = {
            k: v for k, v in params.items() if k != "callback_query_id"
        }
        return True
