"""`python manage.py darkroom SUBCOMMAND`: jobs and queues for people at a terminal.

Exit codes: 0 done, 1 the job failed / was not found / the change was refused, 2 bad usage.
Each subcommand lives in processing/ops/cli/."""

from django.core.management.base import BaseCommand

from processing.ops.cli import actions, monitor, show, submit, usage

SUBCOMMANDS = {
    # name: (help, add_arguments, handle)
    "submit": ("start a job per image; several images make one batch", submit.add_arguments, submit.handle),
    "monitor": ("a live progress bar until a job or batch ends", monitor.add_arguments, monitor.handle),
    "status": ("one job or batch in detail", show.add_status_arguments, show.status),
    "list": ("jobs, newest first", show.add_list_arguments, show.job_list),
    "stats": ("queue table per kind", None, show.stats),
    "cancel": ("cancel a job, or every unfinished job of a batch", actions.add_id_argument, actions.cancel),
    "retry": ("run a failed or cancelled job again", actions.add_id_argument, actions.retry),
    "cleanup": ("remove finished jobs and records past their retention", None, actions.cleanup),
    "health": ("exit 0 when the database and Redis answer", None, actions.health),
    "usage": (
        "a month of the usage ledger per vendor and kind; --csv for invoicing",
        usage.add_arguments,
        usage.handle,
    ),
}


class Command(BaseCommand):
    help = "Submit, watch, list, cancel and retry jobs; queue stats, usage and cleanup."

    def add_arguments(self, parser):
        subparsers = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        for name, (help_text, add_arguments, _) in SUBCOMMANDS.items():
            # called_from_command_line makes a bad argument exit 2 at a terminal, CommandError in call_command
            subparser = subparsers.add_parser(
                name, help=help_text, called_from_command_line=parser.called_from_command_line
            )
            if add_arguments:
                add_arguments(subparser)

    def handle(self, *args, subcommand, **options):
        SUBCOMMANDS[subcommand][2](self, options)
