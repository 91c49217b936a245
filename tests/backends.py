"""The two store back-ends the store, push, crash and end-to-end tests run on.

A test module opts in with ``pytestmark = pytest.mark.backends``: each of its tests that uses
``backend`` (directly, or through ``config``, ``store_url`` or ``make_store``) runs once on
SQLite and once on PostgreSQL. PostgreSQL is the server at ``KRAVSYNC_TEST_PG`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``, trust auth); each test process creates its
own database and drops it at the end, and each store lives in a schema of its own. When the
server cannot be reached, the PostgreSQL half fails loudly: it is never skipped.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest

from connector.clock import Clock
from connector.store import Store, open_store

ADMIN_URL = os.environ.get("KRAVSYNC_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = ("sqlite", "postgresql")

MakeStore = Callable[..., Store]


def database_url(database: str) -> str:
    """``ADMIN_URL`` pointing at ``database``."""
    scheme, rest = ADMIN_URL.split("://", 1)
    host, _, _ = rest.partition("/")
    return f"{scheme}://{host}/{database}"


def schema_url(database: str, schema: str) -> str:
    """A store URL whose tables live in ``schema`` of ``database``."""
    return f"{database_url(database)}?options=-csearch_path%3D{schema}"


class PgServer:
    """This test process's database on the server; a fresh schema per store."""

    def __init__(self) -> None:
        try:
            self.admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            pytest.fail(
                f"PostgreSQL is unreachable at {ADMIN_URL} ({str(exc).strip()}); the PostgreSQL "
                "half of the suite needs it: start it or set KRAVSYNC_TEST_PG",
                pytrace=False,
            )
        self.database = f"kravsync_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.admin.execute(f'CREATE DATABASE "{self.database}"')
        self.db = psycopg.connect(database_url(self.database), autocommit=True)
        self.schemas: list[str] = []

    def new_schema(self) -> str:
        schema = f"s_{uuid.uuid4().hex[:12]}"
        self.db.execute(f'CREATE SCHEMA "{schema}"')
        self.schemas.append(schema)
        return schema

    def drop_schemas(self) -> None:
        while self.schemas:
            self.db.execute(f'DROP SCHEMA IF EXISTS "{self.schemas.pop()}" CASCADE')

    def close(self) -> None:
        self.db.close()
        self.admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        self.admin.close()


_server: PgServer | None = None


def pg_server() -> PgServer:
    global _server
    if _server is None:
        _server = PgServer()
    return _server


def close_server() -> None:
    global _server
    if _server is not None:
        _server.close()
        _server = None


def pytest_sessionfinish(session: pytest.Session) -> None:
    close_server()  # this process's PostgreSQL test database, if it made one


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker("backends"):
        metafunc.parametrize("backend", BACKENDS, indirect=True)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """``sqlite`` (the default) or ``postgresql`` (modules marked ``backends`` run both)."""
    name = getattr(request, "param", "sqlite")
    yield name
    if name == "postgresql":
        pg_server().drop_schemas()


def fresh_store_url(backend: str) -> str:
    """A URL for a config file: ``sqlite:///state.db`` (beside the file) or a new schema."""
    if backend == "sqlite":
        return "sqlite:///state.db"
    server = pg_server()
    return schema_url(server.database, server.new_schema())


@pytest.fixture
def store_url(backend: str) -> str:
    """The URL a test's config file names: ``sqlite:///state.db`` or a fresh PostgreSQL schema."""
    return fresh_store_url(backend)


@pytest.fixture
def make_store(backend: str, tmp_path: Path) -> MakeStore:
    """``make_store(clock, name="k")``: a store on this test's back-end; the same ``name`` opens
    the same store again (a second process's view, or a restart)."""
    urls: dict[str, str] = {}

    def make(clock: Clock, name: str = "k") -> Store:
        if name not in urls:
            if backend == "sqlite":
                urls[name] = f"sqlite:///{tmp_path / (name + '.db')}"
            else:
                server = pg_server()
                urls[name] = schema_url(server.database, server.new_schema())
        return open_store(urls[name], clock)

    make.urls = urls  # type: ignore[attr-defined]
    return make
