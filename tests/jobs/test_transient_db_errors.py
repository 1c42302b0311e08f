"""Transient database errors in a state change are handled by the service itself, on the real
MariaDB: a lock wait that timed out (1205) is tried again, and a connection the server dropped
(KILL: 2006/2013) is reopened and the compare-and-set run once more."""

import threading
import time

import MySQLdb
import pytest
from django.conf import settings
from django.db import connection

from processing.jobs import services
from processing.jobs.models import Job
from tests.factories import make_record, make_vendor

pytestmark = pytest.mark.django_db(transaction=True)


def server_connection():
    db = settings.DATABASES["default"]
    return MySQLdb.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=int(db.get("PORT") or 3306),
        user=db["USER"],
        passwd=db["PASSWORD"],
        db=connection.settings_dict["NAME"],
    )


@pytest.fixture
def job(transactional_db):
    vendor = make_vendor("acme")
    return services.job_create(vendor=vendor, kind="isolated", params={}, record=make_record(vendor))


def test_a_lock_wait_timeout_in_job_start_is_tried_again(job):
    with connection.cursor() as cursor:
        cursor.execute("SET SESSION innodb_lock_wait_timeout = 1")
    locked, release = threading.Event(), threading.Event()

    def hold_the_row() -> None:
        other = server_connection()
        cursor = other.cursor()
        cursor.execute("BEGIN")
        cursor.execute("SELECT id FROM processing_job WHERE id = %s FOR UPDATE", [job.pk.hex])
        locked.set()
        release.wait(10)
        other.commit()
        other.close()

    holder = threading.Thread(target=hold_the_row)
    holder.start()
    assert locked.wait(10)
    threading.Timer(1.5, release.set).start()  # longer than one lock wait, shorter than three
    try:
        started = services.job_start(job_id=job.pk)
    finally:
        release.set()
        holder.join()
    assert started is not None and started.attempts == 1


def test_a_killed_connection_is_reopened_and_the_change_made_once(job):
    started = services.job_start(job_id=job.pk)
    with connection.cursor() as cursor:
        cursor.execute("SELECT CONNECTION_ID()")
        (connection_id,) = cursor.fetchone()
    killer = server_connection()
    killer.cursor().execute(f"KILL CONNECTION {int(connection_id)}")
    killer.close()
    time.sleep(0.1)  # the server closes it
    from processing.jobs.errors import InvalidImage

    assert services.job_fail(job=started, run_token=started.run_token, error=InvalidImage("bad")) == "failed"
    job = Job.objects.get(pk=job.pk)
    assert job.state == "failed" and job.attempts == 1 and len(job.attempt_errors) == 1
