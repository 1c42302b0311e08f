"""Issue 22, point 10: an operator's password is never an argument. `ensure_operator --password`
showed in the process list (`ps`, /proc/<pid>/cmdline) to every user of the machine; it is read
from DARKROOM_OPERATOR_PASSWORD or standard input, and the old flag is refused. The same holds for
the vendor owner's password of `create_vendor` (DARKROOM_USER_PASSWORD), which `make run` passed
on the command line too."""

import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from tests.support.commands import command_output
from tests.support.paths import ROOT
from tests.worker import database_url

SECRET = "correct-horse-battery-staple"


def operators():
    return get_user_model().objects.filter(is_superuser=True)


@pytest.mark.django_db
def test_a_password_on_the_command_line_is_refused(monkeypatch):
    monkeypatch.setenv("DARKROOM_OPERATOR_PASSWORD", SECRET)  # even with a good one beside it

    with pytest.raises(CommandError, match="process list"):
        command_output("ensure_operator", "--username", "op", "--password", SECRET)

    assert not operators().exists()


@pytest.mark.django_db
def test_the_password_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("DARKROOM_OPERATOR_PASSWORD", SECRET)

    command_output("ensure_operator", "--username", "op")

    assert operators().get(username="op").check_password(SECRET)


@pytest.mark.django_db
def test_without_a_password_nothing_is_made(monkeypatch):
    monkeypatch.delenv("DARKROOM_OPERATOR_PASSWORD", raising=False)

    with pytest.raises(CommandError, match="no password"):
        command_output("ensure_operator", "--username", "op")

    assert not operators().exists()


@pytest.mark.django_db(transaction=True)
def test_a_password_piped_to_standard_input_never_shows_in_the_process_list():
    env = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "TEST_DATABASE_URL": database_url(),
        "TEST_REDIS_URL": settings.REDIS_URL,
    }
    command = subprocess.Popen(
        [sys.executable, "manage.py", "ensure_operator", "--username", "op", "--password-stdin"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(0.5)  # running, waiting for its standard input
        seen = Path(f"/proc/{command.pid}/cmdline").read_bytes().decode()
        _, stderr = command.communicate(SECRET + "\n", timeout=60)
    finally:
        command.kill()

    assert command.returncode == 0, stderr
    assert "ensure_operator" in seen and SECRET not in seen
    assert operators().get(username="op").check_password(SECRET)


@pytest.mark.django_db
def test_create_vendor_refuses_a_password_on_the_command_line_and_reads_the_environment(monkeypatch):
    with pytest.raises(CommandError, match="process list"):
        command_output("create_vendor", "acme", "--user", "alice", "--password", SECRET)
    assert not get_user_model().objects.filter(username="alice").exists()

    monkeypatch.setenv("DARKROOM_USER_PASSWORD", SECRET)
    command_output("create_vendor", "acme", "--user", "alice")

    assert get_user_model().objects.get(username="alice").check_password(SECRET)


@pytest.mark.parametrize(
    "command, variable",
    [("ensure_operator", "DARKROOM_OPERATOR_PASSWORD"), ("create_vendor", "DARKROOM_USER_PASSWORD")],
)
def test_make_run_passes_passwords_through_the_environment(command, variable):
    script = (ROOT / "scripts" / "run-local").read_text()
    line = next(line for line in script.splitlines() if f"manage.py {command}" in line)
    assert "--password" not in line and f"{variable}=" in line.split("manage.py")[0]
