"""A second connection to the test database that holds a job's row lock, as another worker or an
admission pass would, until the test lets it go."""

import contextlib
import threading
import time

import MySQLdb
from django.conf import settings
from django.db import connection


def server_connection(*, to_test_database: bool = True):
    """A connection of its own to the database server, straight through the driver, to the test
    database unless told otherwise."""
    db = settings.DATABASES["default"]
    database = {"db": connection.settings_dict["NAME"]} if to_test_database else {}
    return MySQLdb.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=int(db.get("PORT") or 3306),
        user=db["USER"],
        passwd=db["PASSWORD"],
        **database,
    )


def kill_own_connection() -> None:
    """Kill this process's connection to the database from another one, as a server restart or
    a network cut would; Django finds it gone at its next statement."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        (connection_id,) = cursor.fetchone()
    killer = server_connection()
    killer.cursor().execute(f"KILL CONNECTION {int(connection_id)}")
    killer.close()
    time.sleep(0.1)  # the server closes it


@contextlib.contextmanager
def job_row_locked(job_id, *, release_after_s: float | None = None):
    """Lock the job's row (SELECT … FOR UPDATE) on another connection, with this connection's
    lock wait cut to 1 s; the lock goes at the block's end, or after `release_after_s`."""
    with rows_locked(
        "SELECT id FROM processing_job WHERE id = %s FOR UPDATE", [job_id.hex], release_after_s=release_after_s
    ):
        yield


@contextlib.contextmanager
def rows_locked(select_for_update: str, params: list, *, release_after_s: float | None = None):
    """Lock the rows `select_for_update` reads on another connection, with this connection's lock
    wait cut to 1 s; the locks go at the block's end, or after `release_after_s`."""
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
    locked, release = threading.Event(), threading.Event()

    def hold_the_rows() -> None:
        other = server_connection()
        cursor = other.cursor()
        cursor.execute("BEGIN")
        cursor.execute(select_for_update, params)
        locked.set()
        release.wait(30)
        other.rollback()
        other.close()

    holder = threading.Thread(target=hold_the_rows)
    holder.start()
    assert locked.wait(10), "the other connection could not lock the rows"
    if release_after_s is not None:
        threading.Timer(release_after_s, release.set).start()
    try:
        yield
    finally:
        release.set()
        holder.join()
