"""One way to open a SQLite file, used by every store in the project.

Each thread gets its own connection (SQLite connections are cheap and WAL lets readers run beside
one writer); those of ended threads are closed when the next one opens, and `close()` closes
all of them, whichever thread opened them. The schema is a list of
numbered migrations recorded in `PRAGMA user_version` and applied on open, each in its own
transaction; a file written by newer code is refused with a clear message instead of misread.

A file in a folder this process cannot write (a read-only mount of a prebuilt index) is opened
read-only: reads work, `write` raises `ReadOnlyStore`. A file that cannot be used at all (not a
database, corrupt, or missing from a read-only folder) does not fail the open: every use raises
`StoreUnavailable`, naming the file and the way out, so a program that can do without this one
store (the bot without its subscriptions) goes on with the rest. Damage found later, while in
use, makes the store unavailable the same way.
"""

from __future__ import annotations

import fcntl
import os
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


class StoreUnavailable(sqlite3.DatabaseError):
    """The file cannot be used (its message says why and what to do); `reason` is the cause."""

    def __init__(self, message: str, path: Path, reason: str = "") -> None:
        super().__init__(message)
        self.path, self.reason = path, reason


class ReadOnlyStore(StoreUnavailable):
    """A change to, or the creation of, a file in a read-only folder."""


def writable(path: str | Path) -> bool:
    """Whether files can be created in the folder `path` (or in the nearest existing folder
    above it, where it would be made): False on a read-only mount, even for root."""
    folder = Path(path).absolute()
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return os.access(folder, os.W_OK)


def _damaged(exc: sqlite3.Error) -> bool:
    """Not a database at all (overwritten, truncated by a bad copy) or corrupt pages."""
    return getattr(exc, "sqlite_errorcode", None) in (sqlite3.SQLITE_NOTADB, sqlite3.SQLITE_CORRUPT)


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
        remedy: str = "move the file away and start again; it is then made anew, empty",
    ) -> None:
        self.path = Path(path)
        self.what = what
        self.remedy = remedy  # what to do about a damaged file, for the message
        self._migrations = tuple(migrations)
        self._timeout = timeout
        self._foreign_keys = foreign_keys
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[tuple[threading.Thread, sqlite3.Connection]] = []
        self._epoch = 0
        self._unusable: tuple[type[StoreUnavailable], str, str] | None = None
        exists = self.path.exists()
        self.read_only = not writable(self.path.parent) or (
            exists and not os.access(self.path, os.W_OK)
        )
        if self.read_only and not exists:
            folder = self.path.parent
            self._unusable = (
                ReadOnlyStore,
                f"cannot create the {what} {self.path}: the folder {folder} is read-only",
                "read-only folder",
            )
            return
        if not self.read_only:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.migrate()
        except StoreUnavailable:
            self.close()  # damaged: said on every use from now on

    def check(self) -> None:
        """Raise `StoreUnavailable` when the file cannot be used (a fresh one per call)."""
        if self._unusable is not None:
            kind, message, reason = self._unusable
            raise kind(message, self.path, reason)

    @contextmanager
    def _damage_found(self) -> Iterator[None]:
        """SQLite's own word for a damaged file becomes `StoreUnavailable`, for good."""
        try:
            yield
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, StoreUnavailable) or not _damaged(exc):
                raise
            message = f"the {self.what} {self.path} is damaged ({exc}): {self.remedy}"
            self._unusable = (StoreUnavailable, message, str(exc))
            raise StoreUnavailable(message, self.path, str(exc)) from exc

    # -- connections ------------------------------------------------------------------------

    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (autocommit mode: transactions are explicit)."""
        self.check()
        held = getattr(self._local, "held", None)
        if held is not None and held[0] == self._epoch:
            return held[1]
        with self._damage_found():
            conn = self._connect_read_only() if self.read_only else self._connect()
            try:
                conn.row_factory = sqlite3.Row
                if not self.read_only:
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")
                if self._foreign_keys:
                    conn.execute("PRAGMA foreign_keys=ON")
            except BaseException:
                conn.close()
                raise
        with self._lock:
            self._close_orphans()
            self._open.append((threading.current_thread(), conn))
            self._local.held = (self._epoch, conn)
        return conn

    def _connect(self, uri: str | None = None) -> sqlite3.Connection:
        return sqlite3.connect(
            uri or self.path,
            timeout=self._timeout,
            isolation_level=None,
            check_same_thread=False,
            uri=uri is not None,
        )

    def _connect_read_only(self) -> sqlite3.Connection:
        """`mode=ro`, which reads a write-ahead log too but needs its -shm file (SQLite cannot
        make one in a read-only folder); without a log to read, `immutable=1`, which needs
        none but takes the file as unchanging: true of a read-only mount, not of a folder
        another user writes (whose writer, while it runs, leaves the -shm file to read)."""
        uri = self.path.absolute().as_uri()
        conn = self._connect(f"{uri}?mode=ro")
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            wal = self.path.with_name(self.path.name + "-wal")
            if wal.exists() and wal.stat().st_size:
                raise ReadOnlyStore(
                    f"the {self.what} {self.path} has changes in {wal.name} that cannot be "
                    "read from a read-only folder: open it once with write access",
                    self.path,
                    "write-ahead log on a read-only folder",
                ) from None
        return self._connect(f"{uri}?mode=ro&immutable=1")

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
        if self.read_only:
            raise ReadOnlyStore(
                f"the data folder {self.path.parent} is read-only: the {self.what} cannot "
                "be changed",
                self.path,
                "read-only folder",
            )
        with self._damage_found():
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
        with self._damage_found():
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    @contextmanager
    def exclusive(self, name: str) -> Iterator[bool]:
        """True when this process holds the lock `name` (beside the file) for the block;
        False, at once, when another process holds it: one process at a time does a job.
        In a read-only folder nobody can write, so there is nobody to wait for: True."""
        try:
            handle = open(self.path.with_name(f"{self.path.name}.{name}.lock"), "a")  # noqa: SIM115
        except OSError:
            yield True
            return
        with handle:
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
        conn = self.conn
        with self._damage_found():
            return conn.execute(sql, tuple(params)).fetchall()

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
        conn = self.conn
        with self._damage_found():
            return int(conn.execute("PRAGMA user_version").fetchone()[0])

    @property
    def latest(self) -> int:
        return len(self._migrations)

    def migrate(self) -> None:
        """Bring the file up to the newest schema this code knows, one migration at a time."""
        conn = self.conn
        if self.read_only:  # nothing can be migrated: only check that this code can read it
            version = self.version
            self._refuse_newer(version)
            if version < self.latest:
                self.close()
                self._unusable = (
                    ReadOnlyStore,
                    f"the {self.what} {self.path} needs an upgrade (schema {version} to "
                    f"{self.latest}) but its folder is read-only: open it once with write access",
                    "read-only folder",
                )
            return
        while True:
            with self.write():
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                self._refuse_newer(version)
                if version == self.latest:
                    return
                step = self._migrations[version]
                if callable(step):
                    step(conn)
                else:
                    for statement in step:
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {version + 1}")

    def _refuse_newer(self, version: int) -> None:
        if version > self.latest:
            raise SchemaTooNew(
                f"The {self.what} at {self.path} has schema version {version}; this "
                f"version of newsbot knows up to {self.latest}. Upgrade newsbot (or "
                "point it at another data directory)."
            )
