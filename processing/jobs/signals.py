"""Signals sent by processing/jobs/services/ after a state change is committed.

Receivers (webhooks, metrics, event streams) must be quick and must not raise: they run in
the web or worker process that made the change.
"""

from django.dispatch import Signal

# sender=Job class, job=<Job>, state=<final state>
job_finished = Signal()
# sender=Batch class, batch=<Batch>
batch_finished = Signal()
# sender=Job class, now=<the retention pass's time>: after a retention pass removed expired jobs,
# so what other apps keep about jobs (webhook deliveries) goes with them.
retention_ran = Signal()
# sender=Record class, count=<entries>: files to remove were noted in the deletion journal
# (vendors/storage_journal.py), too many to remove on the request; the engine has a worker do it.
storage_deletions_journaled = Signal()
