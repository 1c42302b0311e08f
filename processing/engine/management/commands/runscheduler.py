import os
import shutil
import sys
from pathlib import Path

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the periodic scheduler (periodiq): it enqueues retention on JOB_RETENTION_CRON and the usage ledger's storage sample on USAGE_STORAGE_SAMPLE_CRON."

    def handle(self, **options):
        # Beside this Python first: a virtualenv's scripts are not on PATH unless it is activated.
        beside = Path(sys.executable).parent / "periodiq"
        executable = str(beside) if beside.exists() else shutil.which("periodiq") or "periodiq"
        os.execv(executable, [executable, "-v", "django_dramatiq.setup", "processing.engine.tasks"])
