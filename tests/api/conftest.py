import pytest

from processing.jobs import services
from tests.factories import image_upload
from vendors import services as vendor_services


@pytest.fixture
def acme_objects(vendor, owner):
    """One of each thing acme owns: a project, a record in it, a job on it, a batch."""
    project = vendor_services.project_create(vendor=vendor, name="Spring catalogue")
    record = vendor_services.record_create(project=project, upload=image_upload("photo.jpg"))
    job = services.job_create(vendor=vendor, kind="transform", record=record, params={"width": 8})
    batch = services.batch_create(vendor=vendor, kind="transform", records=[record], params={"width": 8})
    return {"project": project, "record": record, "job": job, "batch": batch}
