import os
import shutil

from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the periodic scheduler (periodiq): it enqueues retention on JOB_RETENTION_CRON and the usage ledger's storage sample on USAGE_STORAGE_SAMPLE_CRON."

    def handle(self, **options):
        executable = shutil.which("periodiq") or "periodiq"
        os.execvp(executable, [executable, "-v", "django_dramatiq.setup", "processing.engine.tasks"])
