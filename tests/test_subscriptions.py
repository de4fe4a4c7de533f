"""Digest subscriptions: storage on a real SQLite file and a real PostgreSQL database,
DST-correct schedule math, parsing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from postgres import fresh_database

from services import subscriptions as subs
from services.subscriptions import (
    ID_ALPHABET,
    DuplicateSubscriptionError,
    SchemaError,
    SubscribeRequest,
    Subscription,
    SubscriptionStore,
    TimezoneDataError,
    UsageError,
    digest_window_start,
    due,
    due_date,
    local_date_of,
    next_send,
    parse_subscribe_args,
    parse_unsubscribe_args,
    resolve_local_time,
    schedule,
)

GRACE = timedelta(hours=2)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def sub(hhmm: str, tz: str, **fields: object) -> Subscription:
    values: dict[str, object] = {
        "id": "ABC234",
        "chat_id": 1,
        "hhmm": hhmm,
        "tz": tz,
        "topic": None,
        "created_by": 7,
        "created_at": LONG_AGO,
    }
    values.update(fields)
    return Subscription(**values)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "postgres"])
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path | str]:
    """Where the store lives: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield tmp_path / "data" / "bot.sqlite"
    else:
        with fresh_database() as url:
            yield url


@pytest.fixture
def store(db_path: Path | str) -> Iterator[SubscriptionStore]:
    with SubscriptionStore(db_path) as opened:
        yield opened


def add(store: SubscriptionStore, chat_id: int = 1, **fields: object) -> Subscription:
    values: dict[str, object] = {
        "hhmm": "08:00",
        "tz": "UTC",
        "topic": None,
        "created_by": 7,
        "now": LONG_AGO,
    }
    values.update(fields)
    return store.add(chat_id, **values)  # type: ignore[arg-type]


# -- storage ------------------------------------------------------------------------------------


def test_add_list_get_remove(store: SubscriptionStore) -> None:
    first = add(store, hhmm="7:30", tz="europe/istanbul", topic="  Syria   war ")
    second = add(store, hhmm="18:00", topic="climate change", thread_id=42)
    add(store, chat_id=2)

    assert first.hhmm == "07:30" and first.tz == "Europe/Istanbul" and first.topic == "Syria war"
    assert first.zone.key == "Europe/Istanbul"
    assert first.created_at == LONG_AGO and first.last_sent_at is None and not first.paused
    assert second.thread_id == 42
    assert [s.id for s in store.list_for_chat(1)] == [first.id, second.id]
    assert store.get(first.id.lower()) == first

    assert not store.remove(2, first.id), "a chat must not remove another chat's subscription"
    assert store.remove(1, first.id.lower())
    assert not store.remove(1, first.id)
    assert store.get(first.id) is None
    assert store.remove_all(1) == 1
    assert store.list_for_chat(1) == []
    assert len(store.list_for_chat(2)) == 1


def test_ids_short_unique_unambiguous(store: SubscriptionStore) -> None:
    ids = [add(store, chat_id=n).id for n in range(200)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 6 and set(i) <= set(ID_ALPHABET) for i in ids)
    assert not set("0O1IL") & set(ID_ALPHABET)


def test_exact_duplicate_is_refused(store: SubscriptionStore) -> None:
    first = add(store, hhmm="07:30", tz="Europe/Berlin", topic="Syria")
    with pytest.raises(DuplicateSubscriptionError) as raised:
        add(store, hhmm="7:30", tz="europe/berlin", topic=" syria ")
    assert raised.value.existing == first
    # Differences in topic, time, zone or forum thread make it a different digest.
    add(store, hhmm="07:30", tz="Europe/Berlin", topic="Syria talks")
    add(store, hhmm="07:30", tz="Europe/Berlin", topic=None)
    add(store, hhmm="07:31", tz="Europe/Berlin", topic="Syria")
    add(store, hhmm="07:30", tz="Europe/Berlin", topic="Syria", thread_id=5)
    assert len(store.list_for_chat(1)) == 5


def test_add_validates(store: SubscriptionStore) -> None:
    with pytest.raises(ValueError):
        add(store, hhmm="25:00")
    with pytest.raises(ValueError):
        add(store, tz="Mars/Base")
    with pytest.raises(ValueError):
        add(store, now=datetime(2024, 1, 1))  # naive


def test_chat_timezone_remembered(db_path: Path | str) -> None:
    with SubscriptionStore(db_path) as store:
        assert store.chat_timezone(1) is None
        assert store.set_chat_timezone(1, "america/new_york") == "America/New_York"
        store.set_chat_timezone(1, "Europe/Istanbul")
        store.set_chat_timezone(2, "UTC")
        with pytest.raises(ValueError):
            store.set_chat_timezone(1, "Mars/Base")
    with SubscriptionStore(db_path) as store:
        assert store.chat_timezone(1) == "Europe/Istanbul"
        assert store.chat_timezone(2) == "UTC"


def test_pause_and_resume(store: SubscriptionStore) -> None:
    a = add(store, hhmm="07:00")
    add(store, hhmm="09:00")
    other = add(store, chat_id=2)
    now = utc(2024, 5, 1, 12)

    assert store.pause_chat(1, "blocked", now) == 2
    assert store.pause_chat(1, "blocked", now) == 0
    assert [s.id for s in store.active()] == [other.id]
    paused = store.get(a.id)
    assert paused.paused and paused.pause_reason == "blocked" and paused.paused_at == now
    assert due(paused, utc(2024, 5, 2, 7, 1), GRACE) == "wait"

    assert store.resume_chat(1) == 2
    assert store.resume_chat(1) == 0
    assert len(store.active()) == 3
    assert store.get(a.id).pause_reason is None


def test_move_chat(store: SubscriptionStore) -> None:
    add(store, chat_id=-1)
    store.set_chat_timezone(-1, "Europe/Berlin")
    assert store.move_chat(-1, -100) == 1
    assert store.list_for_chat(-1) == [] and len(store.list_for_chat(-100)) == 1
    assert store.chat_timezone(-100) == "Europe/Berlin" and store.chat_timezone(-1) is None


def test_schema_version_and_newer_database(db_path: Path | str) -> None:
    with SubscriptionStore(db_path) as store:
        assert store.schema_version == len(subs.MIGRATIONS)
    with SubscriptionStore(db_path) as store:  # reopening does not re-run migrations
        assert store.schema_version == len(subs.MIGRATIONS)
        newer = len(subs.MIGRATIONS) + 1
        if isinstance(db_path, Path):
            store.db.conn.execute(f"PRAGMA user_version = {newer}")
        else:
            with store.db.write() as conn:
                conn.execute(
                    "UPDATE newsbot_schema SET version=? WHERE store=?", (newer, "subscriptions")
                )
    with pytest.raises(SchemaError, match="knows up to"):
        SubscriptionStore(db_path)


def test_concurrent_adds_from_threads(store: SubscriptionStore) -> None:
    errors: list[BaseException] = []

    def worker(chat_id: int) -> None:
        try:
            for minute in range(20):
                add(store, chat_id=chat_id, hhmm=f"07:{minute:02d}")
                store.list_for_chat(chat_id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len({s.id for s in store.active()}) == 160


# -- schedule math ------------------------------------------------------------------------------


def test_next_send_istanbul_has_no_dst() -> None:
    s = sub("07:30", "Europe/Istanbul")
    for day in (date(2024, 1, 15), date(2024, 3, 31), date(2024, 7, 1), date(2024, 10, 27)):
        now = datetime.combine(day, time(0, 0), UTC)
        assert next_send(s, now) == datetime.combine(day, time(4, 30), UTC)


@pytest.mark.parametrize(
    ("tz", "before", "after", "before_utc_hour", "after_utc_hour"),
    [
        # America/New_York: EST (-5) -> EDT (-4) on 2024-03-10, back on 2024-11-03.
        ("America/New_York", date(2024, 3, 9), date(2024, 3, 10), 12, 11),
        ("America/New_York", date(2024, 11, 2), date(2024, 11, 3), 11, 12),
        # Europe/Berlin: CET (+1) -> CEST (+2) on 2024-03-31, back on 2024-10-27.
        ("Europe/Berlin", date(2024, 3, 30), date(2024, 3, 31), 6, 5),
        ("Europe/Berlin", date(2024, 10, 26), date(2024, 10, 27), 5, 6),
    ],
)
def test_next_send_keeps_local_time_across_dst(
    tz: str, before: date, after: date, before_utc_hour: int, after_utc_hour: int
) -> None:
    s = sub("07:30", tz)
    start = datetime.combine(before, time(0, 5), s.zone)  # just after local midnight
    first = next_send(s, start)
    assert first == datetime.combine(before, time(before_utc_hour, 30), UTC)
    assert first.astimezone(s.zone).strftime("%Y-%m-%d %H:%M") == f"{before} 07:30"

    # Once the day before is sent, the next one is on the other side of the change.
    sent = Subscription(**{**s.__dict__, "last_sent_local_date": before, "last_sent_at": first})
    second = next_send(sent, first + timedelta(minutes=1))
    assert second.astimezone(s.zone).strftime("%Y-%m-%d %H:%M") == f"{after} 07:30"
    assert second.hour == after_utc_hour
    assert second - first == timedelta(hours=24 + after_utc_hour - before_utc_hour)


def test_spring_forward_gap_uses_first_valid_instant() -> None:
    s = sub("02:30", "Europe/Berlin")  # 02:00-03:00 does not exist on 2024-03-31
    instant = next_send(s, utc(2024, 3, 30, 23))
    assert instant == utc(2024, 3, 31, 1, 0)  # 03:00 CEST, the end of the gap
    assert instant.astimezone(s.zone).strftime("%H:%M") == "03:00"
    assert local_date_of(s, instant) == date(2024, 3, 31)
    assert due(s, utc(2024, 3, 31, 1, 5), GRACE) == "send"
    assert due(s, utc(2024, 3, 31, 0, 59), GRACE) == "wait"
    # Next day is back to the normal 02:30 local.
    after = Subscription(**{**s.__dict__, "last_sent_local_date": date(2024, 3, 31)})
    assert next_send(after, instant) == utc(2024, 4, 1, 0, 30)


def test_fall_back_overlap_sends_once_at_first_occurrence() -> None:
    s = sub("01:30", "America/New_York")  # 01:30 happens at 05:30 and 06:30 UTC on 2024-11-03
    assert resolve_local_time(date(2024, 11, 3), s.local_time, s.zone) == utc(2024, 11, 3, 5, 30)
    assert due(s, utc(2024, 11, 3, 5, 31), GRACE) == "send"
    sent = Subscription(**{**s.__dict__, "last_sent_local_date": date(2024, 11, 3)})
    assert due(sent, utc(2024, 11, 3, 6, 31), GRACE) == "wait"  # the second 01:30
    assert next_send(sent, utc(2024, 11, 3, 6, 31)) == utc(2024, 11, 4, 6, 30)


def test_due_send_wait_skip() -> None:
    s = sub("07:30", "Europe/Istanbul")  # 04:30 UTC
    assert due(s, utc(2024, 5, 1, 4, 29), GRACE) == "wait"
    assert due(s, utc(2024, 5, 1, 4, 30), GRACE) == "send"
    assert due(s, utc(2024, 5, 1, 6, 30), GRACE) == "send"
    assert due(s, utc(2024, 5, 1, 6, 31), GRACE) == "skip"
    assert due(s, utc(2024, 5, 1, 4, 31), timedelta(0)) == "skip"
    with pytest.raises(ValueError):
        due(s, utc(2024, 5, 1, 4, 31), timedelta(minutes=-1))


def test_mark_sent_is_never_repeated_even_after_restart(db_path: Path | str) -> None:
    day = utc(2024, 5, 1, 4, 31)
    with SubscriptionStore(db_path) as store:
        s = add(store, hhmm="07:30", tz="Europe/Istanbul", topic="Syria")
        assert due(s, day, GRACE) == "send"
        local = local_date_of(s, day)
        assert local == date(2024, 5, 1)
        assert store.mark_sent(s.id, day, local)
        assert not store.mark_sent(s.id, day, local), "second claim of the same date must fail"
        assert not store.mark_sent(s.id, day, "2024-04-30"), "dates never go backwards"

    with SubscriptionStore(db_path) as reopened:  # a restart
        s = reopened.get(s.id)
        assert s.last_sent_at == day and s.last_sent_local_date == date(2024, 5, 1)
        for minutes in (1, 60, 119, 600):
            assert due(s, day + timedelta(minutes=minutes), GRACE) == "wait"
        assert next_send(s, day) == utc(2024, 5, 2, 4, 30)
        assert due(s, utc(2024, 5, 2, 4, 30), GRACE) == "send"
        assert digest_window_start(s, utc(2024, 5, 2, 4, 30)) == day


def test_late_evening_digest_survives_midnight_restart() -> None:
    s = sub("23:50", "Asia/Kolkata", created_at=utc(2024, 5, 1))  # 18:20 UTC
    after_midnight = utc(2024, 5, 1, 18, 40)  # 00:10 local on 2024-05-02
    assert due(s, after_midnight, GRACE) == "send"
    assert due_date(s, after_midnight, GRACE) == date(2024, 5, 1)
    assert next_send(s, after_midnight) == utc(2024, 5, 2, 18, 20)  # without grace: today only
    sent = Subscription(**{**s.__dict__, "last_sent_local_date": date(2024, 5, 1)})
    assert due(sent, after_midnight, GRACE) == "wait"
    assert due(sent, utc(2024, 5, 2, 18, 21), GRACE) == "send"
    assert due_date(sent, utc(2024, 5, 2, 18, 21), GRACE) == date(2024, 5, 2)
    # Yesterday beyond grace is simply not sent; today's digest is what is pending.
    assert due(s, utc(2024, 5, 2, 6), GRACE) == "wait"


def simulate(
    s: Subscription, start: datetime, end: datetime, down: tuple[datetime, datetime]
) -> list[tuple[date, datetime]]:
    """A scheduler ticking every 7 minutes; returns (local date, local send time) pairs."""
    sent: list[tuple[date, datetime]] = []
    now = start
    while now < end:
        if not down[0] <= now < down[1]:
            decision, day = due(s, now, GRACE), due_date(s, now, GRACE)
            assert (decision == "wait") == (next_send(s, now, GRACE) > now)
            if decision == "send":
                sent.append((day, now.astimezone(s.zone).replace(tzinfo=None)))
            if decision != "wait":
                s = Subscription(**{**s.__dict__, "last_sent_local_date": day})
        now += timedelta(minutes=7)
    return sent


@pytest.mark.parametrize("hhmm", ["02:30", "07:30", "23:58"])
@pytest.mark.parametrize(
    ("start", "down"),
    [
        # Around the March change, bot down from 07:00 CEST on Apr 3 to 08:00 CEST on Apr 5.
        (utc(2024, 3, 27), (utc(2024, 4, 3, 5), utc(2024, 4, 5, 6))),
        # Around the October change, never down.
        (utc(2024, 10, 23), (utc(2024, 1, 1), utc(2024, 1, 1))),
    ],
)
def test_simulated_scheduler_sends_once_per_local_date(
    hhmm: str, start: datetime, down: tuple[datetime, datetime]
) -> None:
    s = sub(hhmm, "Europe/Berlin", created_at=start)
    sent = simulate(s, start, start + timedelta(days=12), down)
    days = [day for day, _ in sent]
    assert len(days) == len(set(days)), "a local date was sent twice"
    span = (days[-1] - days[0]).days + 1
    lost = 2 if down[0] != down[1] else 0  # missed within the outage, never sent late
    assert span >= 11 and len(days) == span - lost
    for day, at in sent:
        expected = datetime.combine(day, s.local_time)
        if (day, hhmm) == (date(2024, 3, 31), "02:30"):
            expected = expected.replace(hour=3, minute=0)  # the end of the gap
        # Sent on time (within one tick), or within grace after an outage.
        lateness = at - expected
        assert timedelta(0) <= lateness <= GRACE, (day, at)
        if not down[0] <= datetime.combine(day, s.local_time, s.zone) <= down[1] + GRACE:
            assert lateness < timedelta(minutes=7), (day, at)


def test_skip_moves_to_next_day_without_touching_last_sent_at(store: SubscriptionStore) -> None:
    s = add(store, hhmm="07:30", tz="Europe/Istanbul")
    late = utc(2024, 5, 1, 9)
    assert due(s, late, GRACE) == "skip"
    assert store.mark_skipped(s.id, local_date_of(s, late))
    s = store.get(s.id)
    assert s.last_sent_at is None and s.last_sent_local_date == date(2024, 5, 1)
    assert due(s, late, GRACE) == "wait"
    assert next_send(s, late) == utc(2024, 5, 2, 4, 30)


def test_new_subscription_after_todays_time_waits_until_tomorrow(store: SubscriptionStore) -> None:
    created = utc(2024, 5, 1, 9)  # 09:00 UTC, subscribing for 08:00 UTC
    s = add(store, hhmm="08:00", tz="UTC", now=created)
    assert due(s, created, GRACE) == "wait"
    assert due(s, created + timedelta(minutes=30), GRACE) == "wait"
    assert next_send(s, created) == utc(2024, 5, 2, 8)
    assert due(s, utc(2024, 5, 2, 8, 1), GRACE) == "send"
    # ...but one created before today's time fires today.
    early = add(store, hhmm="08:00", tz="UTC", topic="x-ray", now=utc(2024, 5, 1, 7, 59))
    assert due(early, utc(2024, 5, 1, 8), GRACE) == "send"


def test_digest_window_start() -> None:
    now = utc(2024, 5, 1, 8)
    assert digest_window_start(sub("08:00", "UTC"), now) == now - timedelta(hours=24)
    sent = sub("08:00", "UTC", last_sent_at=utc(2024, 4, 29, 8))
    assert digest_window_start(sent, now) == utc(2024, 4, 29, 8)


def test_missing_zone_data_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(schedule, "_zone_names", dict)
    with pytest.raises(TimezoneDataError, match="tzdata"):
        subs.canonical_zone("Europe/Berlin")


# -- command parsing ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["07:30", "Europe/Istanbul", "Syria"],
            SubscribeRequest("07:30", "Europe/Istanbul", "Syria", tz_explicit=True),
        ),
        (["18:00", "climate", "change"], SubscribeRequest("18:00", "Asia/Tokyo", "climate change")),
        ([], SubscribeRequest("08:00", "Asia/Tokyo", None)),
        (["7:05"], SubscribeRequest("07:05", "Asia/Tokyo", None)),
        (["utc"], SubscribeRequest("08:00", "UTC", None, tz_explicit=True)),
        (
            ["america/new_york", "6:00", "AI/ML", "policy"],
            SubscribeRequest("06:00", "America/New_York", "AI/ML policy", tz_explicit=True),
        ),
        (["Turkey", "and", "Israel"], SubscribeRequest("08:00", "Asia/Tokyo", "Turkey and Israel")),
        (['"climate', 'change"'], SubscribeRequest("08:00", "Asia/Tokyo", "climate change")),
        (["9/11", "anniversary"], SubscribeRequest("08:00", "Asia/Tokyo", "9/11 anniversary")),
    ],
)
def test_parse_subscribe_ok(args: list[str], expected: SubscribeRequest) -> None:
    assert parse_subscribe_args(args, default_tz="Asia/Tokyo") == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["25:00"], "valid time"),
        (["12:61"], "valid time"),
        (["7:5"], "HH:MM"),
        (["7.30", "Syria"], "HH:MM"),
        (["7pm"], "HH:MM"),
        (["Mars/Base"], "Unknown time zone"),
        (["08:00", "Mars/Base", "Syria"], "Unknown time zone"),
        (["08:00", "the", "of", "and"], "no searchable words"),
        (["Syria", "07:30"], "time before the topic"),
        (["Syria", "Europe/Berlin"], "zone before the topic"),
        (["07:30", "08:00"], "one time"),
        (["UTC", "Europe/Berlin"], "one time zone"),
        (["08:00", "x" * 101], "too long"),
    ],
)
def test_parse_subscribe_errors(args: list[str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        parse_subscribe_args(args, default_tz="UTC")


def test_usage_mentions_example() -> None:
    assert "/subscribe 07:30 Europe/Istanbul Syria" in subs.USAGE


def test_parse_unsubscribe() -> None:
    assert parse_unsubscribe_args(["ALL"]) == "all"
    assert parse_unsubscribe_args(["k7q2mx"]) == "K7Q2MX"
    assert parse_unsubscribe_args(["#K7Q2MX"]) == "K7Q2MX"
    for bad in ([], [" "], ["K7Q2MX", "ABCDEF"], ["nope"], ["K7Q2M0"]):
        with pytest.raises(UsageError):
            parse_unsubscribe_args(bad)
