from django.core.management.base import BaseCommand

from processing.services import jobs_purge_finished


class Command(BaseCommand):
    help = "Remove finished jobs past their retention, with result files no record points at."

    def handle(self, **options):
        report = jobs_purge_finished()
        self.stdout.write(f"removed {report.jobs} jobs and {report.files} result files")
