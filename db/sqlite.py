"""One way to open a SQLite file, used by every store in the project.

Each thread gets its own connection (SQLite connections are cheap and WAL lets readers run beside
one writer); those of ended threads are closed when the next one opens, and `close()` closes
all of them, whichever thread opened them. The schema is a list of
numbered migrations recorded in `PRAGMA user_version` and applied on open, each in its own
transaction; a file written by newer code is refused with a clear message instead of misread.
"""

from __future__ import annotations

import fcntl
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

# A migration is a list of SQL statements or a function given the connection (inside the
# migration's transaction). Never edit a released one; append a new one.
Migration = Sequence[str] | Callable[[sqlite3.Connection], None]


class SchemaTooNew(RuntimeError):
    """The file was written by a newer version of the code than this one."""


class Database:
    """A SQLite file with per-thread connections and numbered migrations."""

    def __init__(
        self,
        path: str | Path,
        migrations: Sequence[Migration],
        *,
        what: str = "database",
        timeout: float = 30.0,
        foreign_keys: bool = False,
    ) -> None:
        self.path = Path(path)
        self.what = what
        self._migrations = tuple(migrations)
        self._timeout = timeout
        self._foreign_keys = foreign_keys
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._epoch = 0
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.migrate()

    # -- connections ------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit mode: transactions are explicit)."""
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == self._epoch:
            return held[1]
        conn = sqlite3.connect(
            self.path, timeout=self._timeout, isolation_level=None, check_same_thread=False
        )
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        if self._foreign_keys:
            conn.execute("PRAGMA foreign_keys=ON")
        with self._lock:
            self._close_orphans()
            self._open.append((threading.current_thread(), conn))
            self._local.held = (self._epoch, conn)
        return conn

    def _close_orphans(self) -> None:
        """Close the connections of threads that have ended (a poll's worker pool, a
        to_thread worker retired by its executor): nothing else would, and each holds a file
        descriptor and a page cache. Called with the lock held, when a connection is opened."""
        alive = []
        for thread, conn in self._open:
            if thread.is_alive():
                alive.append((thread, conn))
            else:
                conn.close()
        self._open = alive

    @property
    def open_connections(self) -> int:
        with self._lock:
            return len(self._open)

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One atomic write transaction; BEGIN IMMEDIATE also serialises other processes.

        Rolled back on any exception, Ctrl-C included.
        """
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:  # SQLite rolls back by itself on some errors (disk full)
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A consistent read view across several queries."""
        conn = self.conn
        conn.execute("BEGIN")
        try:
            yield conn
        finally:
            conn.execute("COMMIT")

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """True when this process holds the lock `name` (beside the file) for the block;
        False, at once, when another process holds it: one process at a time does a job."""
        with open(self.path.with_name(f"{self.path.name}.{name}.lock"), "a") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, tuple(params)).fetchall()

    def close(self) -> None:
        """Close every thread's connection; a later use opens a fresh one."""
        with self._lock:
            self._epoch += 1
            conns, self._open = self._open, []
        for _, conn in conns:
            conn.close()

    def __enter__(self) -> Database:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema -----------------------------------------------------------------------------

    @property
    def version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def latest(self) -> int:
        return len(self._migrations)

    def migrate(self) -> None:
        """Bring the file up to the newest schema this code knows, one migration at a time."""
        conn = self.conn
        while True:
            with self.write():
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                if version > self.latest:
                    raise SchemaTooNew(
                        f"The {self.what} at {self.path} has schema version {version}; this "
                        f"version of newsbot knows up to {self.latest}. Upgrade newsbot (or "
                        "point it at another data directory)."
                    )
                if version == self.latest:
                    return
                step = self._migrations[version]
                if callable(step):
                    step(conn)
                else:
                    for statement in step:
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")
