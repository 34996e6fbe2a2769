"""Connections to the SQL databases (PostgreSQL, MySQL/MariaDB, SQLite, and any SQLAlchemy URL
whose dialect is installed), shared by connector.sql_query and action.sql_table: where they
may connect, a time limit on every statement, how a running statement is stopped from another
thread, and driver errors turned into safe messages.

* A database host is resolved once, checked like a URL (private and loopback addresses need
  DATAGRAN_URL_ALLOWLIST) and connected to at the checked address.
* Every refused connection says the same (closed port, unknown host, wrong password): the
  text must not tell an open port from a closed one. The driver's words go to the log.
* A SQLite file must lie in the administrator's folder (DATAGRAN_SQLITE_ROOT), symlinks and
  ``..`` resolved; the file checked is the file opened.
* A SQLAlchemy URL (the ``sqlalchemy`` kind) naming PostgreSQL, MySQL/MariaDB or SQLite is
  served exactly as those kinds are (the installed drivers, whatever driver it names, so the
  read-only session and the time limits hold); another dialect's host is checked and dialled
  the same way, but its session is as read-only as its database user."""
from __future__ import annotations

import dataclasses
import logging
import os
import sqlite3
import time
from contextlib import closing
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool, QueuePool

from ..base import Context, OperatorError
from ..connections import (
    MySQLConnection,
    PostgresConnection,
    SqlAlchemyConnection,
    SQLiteConnection,
)
from ..net import UnresolvableHost, resolve

SQLConnection = PostgresConnection | MySQLConnection | SQLiteConnection | SqlAlchemyConnection
SQL_MODELS = (PostgresConnection, MySQLConnection, SQLiteConnection, SqlAlchemyConnection)
SQL_KINDS = ["postgresql", "mysql", "sqlite", "sqlalchemy"]
CONNECT_TIMEOUT = 10

CONNECT_FAILED = ("Cannot connect to the database: check the connection's host, port, "
                  "database, user and password.")
STOPPED = "The query was stopped: the node was cancelled or reached its time limit."
TIMED_OUT = "The statement ran longer than timeout_seconds ({timeout} s) and was stopped."
SQLITE_OFF = ("SQLite connections are turned off on this server; an administrator turns them "
              "on by setting DATAGRAN_SQLITE_ROOT to the folder that holds the files.")
SQLITE_NOT_A_PATH = "The SQLite path must be a file name or path, not a URI or options."
SQLITE_OUTSIDE = ("The SQLite file must lie in the server's SQLite folder "
                  "(DATAGRAN_SQLITE_ROOT): give a path relative to it, e.g. sales.db.")

NOT_A_URL = ("The connection's url is not a SQLAlchemy database URL: write it as "
             "dialect+driver://user:password@host:port/database.")
NOT_INSTALLED = ("The connection's url needs the {what}, which is not installed on this "
                 "server: an administrator installs it with pip install {package}.")
NO_HOST = "The connection's url must name the database server's host."
URL_OPTION = ("The connection's url may not set {option!r}: of its options only {allowed} "
              "are accepted.")

# The packages that bring the dialects SQLAlchemy does not ship.
DIALECT_PACKAGES = {
    "snowflake": "snowflake-sqlalchemy", "bigquery": "sqlalchemy-bigquery",
    "redshift": "sqlalchemy-redshift", "duckdb": "duckdb-engine",
    "clickhouse": "clickhouse-sqlalchemy", "trino": "trino", "databricks":
    "databricks-sqlalchemy", "cockroachdb": "sqlalchemy-cockroachdb", "awsathena":
    "pyathena", "hana": "sqlalchemy-hana", "ibm_db_sa": "ibm-db-sa", "db2": "ibm-db-sa",
    "teradatasql": "teradatasqlalchemy", "vertica": "sqlalchemy-vertica-python",
    "firebird": "sqlalchemy-firebird", "sybase": "sqlalchemy-sybase",
}
# The options a PostgreSQL or MySQL URL may carry: none may point the driver at another host,
# a socket, a file of this server, or undo the read-only session.
PG_OPTIONS = ("sslmode", "application_name", "client_encoding", "gssencmode",
              "channel_binding", "target_session_attrs")
MYSQL_OPTIONS = ("charset",)

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class OtherDatabase:
    """A SQLAlchemy URL of a dialect other than PostgreSQL, MySQL/MariaDB and SQLite."""

    url: sa.URL
    host: str
    port: int

    @property
    def password(self) -> str:
        return str(self.url.password or "")


Native = PostgresConnection | MySQLConnection | SQLiteConnection | OtherDatabase


def parse_url(conn: SqlAlchemyConnection, *, field: str) -> sa.URL:
    """The connection's URL, its dialect and driver installed; OperatorError(field=...)
    naming the package to install otherwise. No message quotes the URL (its password)."""
    try:
        url = sa.make_url(conn.url.get_secret_value().strip())
    except (ArgumentError, ValueError):
        raise OperatorError(NOT_A_URL, field=field) from None
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        name = url.get_backend_name()
        package = DIALECT_PACKAGES.get(name, f"the package providing it (e.g. "
                                            f"sqlalchemy-{name})")
        raise OperatorError(NOT_INSTALLED.format(what=f"SQLAlchemy dialect {name!r}",
                                                 package=package), field=field) from None
    if url.get_backend_name() in ("postgresql", "mysql", "mariadb", "sqlite"):
        return url  # served by the installed drivers (see native())
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = (exc.name or url.get_driver_name()).split(".")[0]
        raise OperatorError(NOT_INSTALLED.format(
            what=f"database driver {module!r} (for {url.drivername})",
            package=module), field=field) from None
    return url


def native(conn: SQLConnection, *, field: str = "connection"
           ) -> tuple[Native, dict[str, str]]:
    """The connection as one of the kinds this module knows how to protect (a SQLAlchemy URL
    of PostgreSQL, MySQL/MariaDB or SQLite becomes that kind's connection), with the URL's
    options the driver is given."""
    if not isinstance(conn, SqlAlchemyConnection):
        return conn, {}
    url = parse_url(conn, field=field)
    backend = url.get_backend_name()
    options = {k: str(v) for k, v in url.query.items()}
    if backend == "sqlite":
        if options:
            raise OperatorError(SQLITE_NOT_A_PATH, field=field)
        return SQLiteConnection(path=url.database or ":memory:"), {}
    if not url.host:
        raise OperatorError(NO_HOST, field=field)
    if backend in ("postgresql", "mysql", "mariadb"):
        allowed = PG_OPTIONS if backend == "postgresql" else MYSQL_OPTIONS
        for option in options:
            if option not in allowed:
                raise OperatorError(URL_OPTION.format(option=option,
                                                      allowed=", ".join(allowed)), field=field)
    try:
        if backend == "postgresql":
            return PostgresConnection(
                host=url.host, port=url.port or 5432, database=url.database or "",
                user=url.username or "", password=url.password or ""), options
        if backend in ("mysql", "mariadb"):
            return MySQLConnection(host=url.host, port=url.port or 3306,
                                   database=url.database or "", user=url.username or "",
                                   password=url.password or ""), options
    except ValueError:  # pydantic: a host that is not a host name, a port out of range
        raise OperatorError("The connection's url has a host or port that is not valid.",
                            field=field) from None
    return OtherDatabase(url=url, host=url.host, port=url.port or 0), {}


def sqlite_file(path: str, root: str | None, *, field: str) -> str:
    """The file a SQLite connection's ``path`` names, symlinks and ``..`` resolved, if it
    lies in the folder ``root`` (relative paths are taken from there); ``:memory:`` stays.
    OperatorError(field=...) otherwise, or if ``root`` is None (SQLite turned off)."""
    if path == ":memory:":
        return path
    if root is None:
        raise OperatorError(SQLITE_OFF, field=field)
    if path.lower().startswith("file:") or any(c in path for c in "\0?#"):
        raise OperatorError(SQLITE_NOT_A_PATH, field=field)
    base = os.path.realpath(root)
    target = os.path.realpath(os.path.join(base, path))
    if target == base or os.path.commonpath([base, target]) != base:
        raise OperatorError(SQLITE_OUTSIDE, field=field)
    return target


class Database:
    """One database session of a node. ``connect()`` opens it (refusals as OperatorError on
    ``connection``); ``interrupt()`` stops its running statement from another thread:
    register it with ``ctx.on_interrupt``; ``failure()`` turns a driver error into the
    message to show."""

    def __init__(self, ctx: Context, conn: SQLConnection, *, read_only: bool,
                 timeout: int, pool_size: int = 0) -> None:
        # A SQLAlchemy URL that cannot be served is refused here, before anything connects.
        # pool_size: keep that many connections open for reuse (serving's lookups); 0, a
        # node's session, opens one for each connect().
        self.pool: dict[str, Any] = {"poolclass": NullPool} if not pool_size else {
            "poolclass": QueuePool, "pool_size": pool_size, "max_overflow": pool_size,
            "pool_recycle": 300}
        if pool_size and read_only and not isinstance(conn, OtherDatabase):
            # One statement a checkout, read-only: without a transaction around it, a lookup
            # is one round trip instead of three (BEGIN, the query, and the ROLLBACK the pool
            # resets a returned connection with). The session stays read-only (the
            # server's setting, SQLite's file mode).
            self.pool["isolation_level"] = "AUTOCOMMIT"
        self.conn, self.options = native(conn)
        self.ctx, self.timeout = ctx, timeout
        self.dbapi: Any = None
        self.started = time.monotonic()
        self.timed_out = False
        self._target: str | None = None  # the checked address, once resolved
        self.engine = self._engine(read_only)
        sa.event.listen(self.engine, "before_cursor_execute", self._statement_starts)

    # --- opening -------------------------------------------------------------------------
    # The engine reaches nothing until connect(): the host or file is checked then (a dry
    # run, which never connects, works offline).
    def _engine(self, read_only: bool) -> Engine:
        conn = self.conn
        if isinstance(conn, SQLiteConnection):
            mode = "ro" if read_only else "rwc"
            return sa.create_engine("sqlite+pysqlite://", **self.pool,
                                    creator=lambda: self._sqlite_connect(mode))
        if isinstance(conn, OtherDatabase):
            return self._other_engine(conn)
        password = conn.password.get_secret_value() or None
        if isinstance(conn, PostgresConnection):
            url = sa.URL.create("postgresql+psycopg", username=conn.user, password=password,
                                host=conn.host, port=conn.port, database=conn.database)
            options = f"-c statement_timeout={self.timeout * 1000}"
            if read_only:
                options += " -c default_transaction_read_only=on"
            engine = sa.create_engine(url, **self.pool, connect_args={
                "application_name": "datagran", **self.options,
                "connect_timeout": CONNECT_TIMEOUT, "options": options})
            # hostaddr: libpq connects there and uses host only for TLS and authentication.
            sa.event.listen(engine, "do_connect", lambda _d, _r, _a, params: params.update(
                hostaddr=self._address()))
            return engine
        url = sa.URL.create("mysql+pymysql", username=conn.user, password=password,
                            host=conn.host, port=conn.port, database=conn.database,
                            query={"charset": self.options.get("charset", "utf8mb4")})
        # The server's own statement limit fires first, with a clearer message.
        wait = self.timeout + CONNECT_TIMEOUT
        engine = sa.create_engine(url, **self.pool, connect_args={
            "connect_timeout": CONNECT_TIMEOUT, "read_timeout": wait, "write_timeout": wait})
        sa.event.listen(engine, "do_connect", lambda _d, _r, _a, params: params.update(
            host=self._address()))
        sa.event.listen(engine, "connect", lambda dbapi, _record: self._mysql_session(
            dbapi, read_only=read_only))
        return engine

    def _other_engine(self, conn: OtherDatabase) -> Engine:
        # Another dialect: its own driver, dialled at the checked address (the URL's host
        # replaced in whatever arguments the dialect makes of it).
        engine = sa.create_engine(conn.url, **self.pool)

        def dial(dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]) -> None:
            args, params = dialect.create_connect_args(conn.url.set(host=self._address()))
            cargs[:] = list(args)
            cparams.update(params)

        sa.event.listen(engine, "do_connect", dial)
        return engine

    def _address(self) -> str:
        conn = self.conn
        assert not isinstance(conn, SQLiteConnection)
        if self._target is None:
            try:
                self._target = resolve(conn.host, conn.port,
                                       allowlist=list(self.ctx.url_allowlist),
                                       field="connection")
            except UnresolvableHost as exc:
                log.info("SQL connection refused: %s", exc.message)
                raise OperatorError(CONNECT_FAILED, field="connection") from None
        return self._target

    def _sqlite_connect(self, mode: str) -> sqlite3.Connection:
        assert isinstance(self.conn, SQLiteConnection)
        path = sqlite_file(self.conn.path, getattr(self.ctx, "sqlite_root", None),
                           field="connection")
        # Opened through a URI so read-only is enforced by SQLite ("mode=ro"); the path is
        # quoted, so no option of the user's can ride along.
        uri = path if path == ":memory:" else f"file:{quote(path)}?mode={mode}"
        connection = sqlite3.connect(uri, uri=uri != ":memory:", timeout=self.timeout,
                                     check_same_thread=False)
        connection.set_progress_handler(self._sqlite_progress, 10_000)
        return connection

    def _sqlite_progress(self) -> int:
        # Called by SQLite every 10,000 instructions: a non-zero answer aborts the statement.
        if self.ctx.interrupts.fired:
            return 1
        if time.monotonic() - self.started > self.timeout:
            self.timed_out = True
            return 1
        return 0

    def _mysql_session(self, dbapi: Any, *, read_only: bool) -> None:
        with dbapi.cursor() as cursor:
            if "mariadb" in dbapi.get_server_info().lower():
                cursor.execute(f"SET SESSION max_statement_time = {self.timeout}")
            else:  # MySQL bounds SELECTs only
                cursor.execute(f"SET SESSION max_execution_time = {self.timeout * 1000}")
            if read_only:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")

    def _statement_starts(self, connection: sa.Connection, *_args: Any) -> None:
        # An interrupt that came while no statement ran had nothing to cancel: no statement
        # starts after it.
        self.check()
        self.started = time.monotonic()
        # The session to interrupt is the one running this statement, whoever opened it
        # (dlt's sql_table connects through the engine itself).
        self.dbapi = connection.connection.dbapi_connection

    def connect(self) -> sa.Connection:
        try:
            connection = self.engine.connect()
        except SQLAlchemyError as exc:
            # The driver's words (refused, timed out, authentication failed) would tell an
            # open port from a closed one: they go to the log, for the administrator.
            log.info("SQL connection refused: %s", driver_message(exc, self.conn))
            raise OperatorError(CONNECT_FAILED, field="connection") from None
        self.dbapi = connection.connection.dbapi_connection
        return connection

    # --- stopping ------------------------------------------------------------------------
    def interrupt(self) -> None:
        """Stop the running statement (from another thread): SQLite's interrupt (and its
        progress handler sees ``ctx.interrupts``), PostgreSQL's cancel request, MySQL's
        KILL QUERY from a second connection."""
        dbapi = self.dbapi
        if dbapi is None:
            return
        if isinstance(self.conn, SQLiteConnection):
            dbapi.interrupt()
        elif isinstance(self.conn, PostgresConnection):
            dbapi.cancel_safe(timeout=CONNECT_TIMEOUT)
        elif isinstance(self.conn, OtherDatabase):
            cancel = getattr(dbapi, "cancel", None)  # what a driver offers, if anything
            if callable(cancel):
                cancel()
        else:
            killer = self.engine.raw_connection()
            try:
                with closing(killer.cursor()) as cursor:
                    cursor.execute(f"KILL QUERY {int(dbapi.thread_id())}")
            finally:
                killer.close()

    def check(self) -> None:
        """Between statements or chunks: stop if the node was interrupted meanwhile."""
        if self.ctx.interrupts.fired:
            raise OperatorError(STOPPED)

    def ran_too_long(self, exc: BaseException) -> bool:
        """Whether ``exc`` is the statement time limit (SQLite's progress handler,
        PostgreSQL's statement_timeout, MariaDB's max_statement_time, MySQL's
        max_execution_time)."""
        orig = _driver_error(exc)
        code = orig.args[0] if getattr(orig, "args", None) else None
        return self.timed_out or getattr(orig, "sqlstate", None) == "57014" \
            or code in (1969, 3024)

    def failure(self, exc: BaseException, what: str, *, field: str) -> OperatorError:
        if self.ctx.interrupts.fired:
            return OperatorError(STOPPED)
        if self.ran_too_long(exc):
            return OperatorError(TIMED_OUT.format(timeout=self.timeout),
                                 field="timeout_seconds")
        return OperatorError(f"{what}: {driver_message(exc, self.conn)}", field=field)

    def close(self) -> None:
        self.engine.dispose()


def _driver_error(exc: BaseException) -> BaseException:
    if getattr(exc, "orig", None) is None and exc.__cause__ is not None:
        exc = exc.__cause__  # pandas wraps SQLAlchemy's error, which wraps the driver's
    return getattr(exc, "orig", None) or exc


def secrets_of(conn: SQLConnection | Native) -> list[str]:
    if isinstance(conn, SqlAlchemyConnection):
        url = conn.url.get_secret_value()
        try:
            password = str(sa.make_url(url).password or "")
        except (ArgumentError, ValueError):
            password = ""
        return [s for s in (url, password) if s]
    if isinstance(conn, SQLiteConnection):
        return []
    if isinstance(conn, OtherDatabase):
        return [s for s in (conn.url.render_as_string(hide_password=False), conn.password)
                if s]
    password = conn.password.get_secret_value()
    return [password] if password else []


def driver_message(exc: BaseException, conn: SQLConnection | Native) -> str:
    """The first line of what the database driver said, with the password removed in case
    a driver ever quotes it. SQLAlchemy's own text (the SQL, the parameters, a link) is left
    out: the parameters may hold row values and the link helps nobody on the canvas."""
    orig = _driver_error(exc)
    args: tuple[Any, ...] = getattr(orig, "args", ())
    # PyMySQL's errors are (code, message): show the message as MySQL's client does.
    text = f"{args[1]} ({args[0]})" if len(args) == 2 and isinstance(args[0], int) \
        else str(orig)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    message = lines[0] if lines else type(orig).__name__
    for secret in secrets_of(conn):
        message = message.replace(secret, "***")
    return message[:500]
