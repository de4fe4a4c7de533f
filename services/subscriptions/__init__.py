"""Daily digest subscriptions, split by job (no Telegram anywhere):

* `schedule`: time zones and when a digest is due (DST-correct, pure functions);
* `requests`: the words after `/subscribe` and `/unsubscribe`, usage texts, user errors;
* `store`: the SQLite file that holds subscriptions and each chat's time zone.
"""

from services.subscriptions.requests import (
    DEFAULT_TIME,
    ID_ALPHABET,
    ID_LENGTH,
    TOPIC_MAX_CHARS,
    UNSUBSCRIBE_USAGE,
    USAGE,
    SubscribeRequest,
    UsageError,
    clean_topic,
    parse_hhmm,
    parse_subscribe_args,
    parse_unsubscribe_args,
)
from services.subscriptions.schedule import (
    Decision,
    Subscription,
    TimezoneDataError,
    UnknownTimezoneError,
    canonical_zone,
    digest_window_start,
    due,
    due_date,
    load_zone,
    local_date_of,
    next_send,
    resolve_local_time,
)
from services.subscriptions.store import (
    MIGRATIONS,
    DuplicateSubscriptionError,
    SchemaError,
    SubscriptionStore,
    new_id,
)

__all__ = [
    "DEFAULT_TIME",
    "ID_ALPHABET",
    "ID_LENGTH",
    "MIGRATIONS",
    "TOPIC_MAX_CHARS",
    "UNSUBSCRIBE_USAGE",
    "USAGE",
    "Decision",
    "DuplicateSubscriptionError",
    "SchemaError",
    "SubscribeRequest",
    "Subscription",
    "SubscriptionStore",
    "TimezoneDataError",
    "UnknownTimezoneError",
    "UsageError",
    "canonical_zone",
    "clean_topic",
    "digest_window_start",
    "due",
    "due_date",
    "load_zone",
    "local_date_of",
    "new_id",
    "next_send",
    "parse_hhmm",
    "parse_subscribe_args",
    "parse_unsubscribe_args",
    "resolve_local_time",
]
