"""The shared SQLite helper: migrations, newer files refused, other threads closed."""

from __future__ import annotations

import sqlite3
import threading

import pytest

from db.sqlite import Database, SchemaTooNew

STEPS = (
    ["CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"],
    ["ALTER TABLE notes ADD COLUMN tag TEXT"],
)


def test_migrations_run_once_and_in_order(tmp_path):
    path = tmp_path / "a.sqlite"
    with Database(path, STEPS[:1]) as db:
        with db.write() as conn:
            conn.execute("INSERT INTO notes (text) VALUES ('kept')")
        assert db.version == 1
    with Database(path, STEPS) as db:  # a newer release adds a column; the row survives
        assert db.version == 2
        rows = db.query("SELECT text, tag FROM notes")
        assert [tuple(r) for r in rows] == [("kept", None)]


def test_a_file_from_newer_code_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "b.sqlite"
    Database(path, STEPS).close()
    with pytest.raises(SchemaTooNew, match="version 2; this version of newsbot knows up to 1"):
        Database(path, STEPS[:1], what="subscriptions database")


def test_a_failed_migration_leaves_the_previous_version(tmp_path):
    path = tmp_path / "c.sqlite"
    Database(path, STEPS[:1]).close()
    with pytest.raises(sqlite3.OperationalError):
        Database(path, [*STEPS[:1], ["ALTER TABLE missing ADD COLUMN x"]])
    with Database(path, STEPS[:1]) as db:
        assert db.version == 1


def test_close_closes_connections_opened_by_other_threads(tmp_path):
    db = Database(tmp_path / "d.sqlite", STEPS)
    opened: list[sqlite3.Connection] = []
    worker = threading.Thread(target=lambda: opened.append(db.conn))
    worker.start()
    worker.join()
    db.close()
    with pytest.raises(sqlite3.ProgrammingError):
        opened[0].execute("SELECT 1")
    assert db.query("SELECT count(*) FROM notes")[0][0] == 0  # reopens on the next use
    db.close()


def test_connections_of_ended_threads_are_closed(tmp_path):
    db = Database(tmp_path / "d.sqlite", STEPS)
    opened: list[sqlite3.Connection] = []
    for _ in range(50):
        worker = threading.Thread(target=lambda: opened.append(db.conn))
        worker.start()
        worker.join()
    assert db.query("SELECT count(*) FROM notes")[0][0] == 0  # this thread's own connection
    assert db.open_connections <= 2  # this thread's, and at most the last ended thread's
    with pytest.raises(sqlite3.ProgrammingError):
        opened[0].execute("SELECT 1")
    db.close()
