"""Work that failed on our side is not charged: the one rule, whatever path ends a job failed.

A job that ends failed with a code of errors.OUR_SIDE gives back the background removals it was
charged (charges.per_image_charges), into the quota windows they were counted in at its creation
while those are still open (a closed window has reset already). Failures of the vendor's input
(a corrupt photo, no face, a refused URL) stay charged: the work was asked for and done."""

import logging

from redis.exceptions import RedisError

from processing.jobs.charges import per_image_charges
from processing.jobs.errors import OUR_SIDE
from processing.jobs.models import Job
from vendors.quotas import quota_refund_at

logger = logging.getLogger(__name__)


def job_refund_if_ours(*, job: Job, error_code: str) -> dict[str, int]:
    """What was given back for the failed `job` (nothing when the failure was the vendor's)."""
    if error_code not in OUR_SIDE:
        return {}
    charges = per_image_charges(kind=job.kind, count=1, params=job.run_params, stored=True)
    if not charges:
        return {}
    try:
        quota_refund_at(vendor=job.vendor, charges=charges, at=job.created_at)
    except RedisError:
        logger.warning("job %s of vendor %s: its charge %s could not be given back", job.pk, job.vendor_id, charges)
        return {}
    return charges
