"""Operators in the admin: a staff superuser's browser session, and jobs in every state made
through the same services the API and the workers use."""

from processing.jobs import services
from processing.jobs.errors import PermanentJobError
from processing.lib.imaging.output import ImageOutput, json_output
from tests.support.photos import image_bytes


def fail_job(job, message: str = "the input is not an image", code: str = "invalid_image"):
    """Run the job's attempt to a permanent failure, as a worker would."""
    taken = services.job_start(job_id=job.pk)
    services.job_fail(
        job=taken,
        run_token=taken.run_token,
        error=PermanentJobError(message, code=code),
        traceback=f'Traceback (most recent call last):\n  File "runner.py", line 1\nPermanentJobError: {message}',
    )
    taken.refresh_from_db()
    return taken


def succeed_job(job, output: ImageOutput | None = None):
    taken = services.job_start(job_id=job.pk)
    output = output or ImageOutput(image_bytes(color=(255, 0, 0)), "image/png", 8, 8)
    services.job_succeed(job=taken, run_token=taken.run_token, output=output)
    taken.refresh_from_db()
    return taken


def succeed_with_json(job, document):
    return succeed_job(job, json_output(document))
