"""Signals sent by processing/services.py after a state change is committed.

Receivers (webhooks, metrics, event streams) must be quick and must not raise: they run in
the web or worker process that made the change.
"""

from django.dispatch import Signal

# sender=Job class, job=<Job>, state=<final state>
job_finished = Signal()
# sender=Batch class, batch=<Batch>
batch_finished = Signal()
