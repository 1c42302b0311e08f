"""Every line logged while a job runs says which job, vendor, kind and attempt it belongs to."""

import logging

import pytest

from processing.engine.tasks import actor_for
from processing.jobs import services, signals
from processing.jobs.models import Job
from processing.lib.logcontext import job_log_context
from tests.factories import make_record

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_line_logged_by_a_receiver_during_a_job_names_the_job(vendor, clean_redis, json_lines):
    job = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    receiver_log = logging.getLogger("tests.ops.receiver")

    def on_finish(sender, job, state, **kwargs):
        receiver_log.info("receiver saw %s", state)  # no extra=: the context must supply the fields

    signals.job_finished.connect(on_finish, weak=False)
    try:
        actor_for("isolated")(str(job.pk))  # the actor's function, run here as a worker thread would
    finally:
        signals.job_finished.disconnect(on_finish)
    receiver_log.info("after the job")

    assert Job.objects.get(pk=job.pk).state == "succeeded"
    lines = {line["message"]: line for line in json_lines()}
    during = lines["receiver saw succeeded"]
    assert during["job_id"] == str(job.pk)
    assert during["vendor"] == "acme"
    assert during["kind"] == "isolated"
    assert during["attempt"] == 1
    assert "job_id" not in lines["after the job"], "the context ends with the job"


def test_the_filter_keeps_fields_a_call_site_gave_and_leaves_other_lines_alone(vendor, json_lines):
    job = services.job_create(vendor=vendor, kind="isolated", record=make_record(vendor))
    log = logging.getLogger("tests.ops.filter")
    log.info("before")
    with job_log_context({"job_id": str(job.pk), "vendor": job.vendor.slug, "kind": job.kind, "attempt": job.attempts}):
        log.info("inside")
        log.info("explicit", extra={"kind": "override"})
    log.info("outside")

    lines = {line["message"]: line for line in json_lines()}
    assert lines["inside"]["job_id"] == str(job.pk) and lines["inside"]["attempt"] == 0
    assert lines["explicit"]["kind"] == "override" and lines["explicit"]["vendor"] == "acme"
    assert "job_id" not in lines["before"] and "job_id" not in lines["outside"]
