"""Management commands called in the test's own process, as `manage.py` would run them."""

from io import StringIO

from django.core.management import call_command


def command_output(name: str, *args: str) -> str:
    """What `manage.py <name> <args>` prints on stdout; what it writes to stderr is dropped."""
    out = StringIO()
    call_command(name, *args, stdout=out, stderr=StringIO())
    return out.getvalue()
