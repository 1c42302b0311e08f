"""Password guessing: every sign-in (the admin's and the portal's) is locked after
AXES_FAILURE_LIMIT failures from one IP or for one username, until the cool-off passes or an
operator unlocks it; there is no password reset by e-mail to abuse."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db

SIGN_INS = ["/admin/login/", "/accounts/login/"]


@pytest.fixture
def staff_account(db):
    """A staff user who signs in with a password, as "ops"."""
    return get_user_model().objects.create_user(username="ops", password="pw-ops-correct", is_staff=True)


@pytest.fixture(autouse=True)
def three_failures(settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.ANON_RATE_LIMIT = "1000/15m"


def sign_in(client, path, password, ip):
    return client.post(path, {"username": "ops", "password": password}, REMOTE_ADDR=ip)


@pytest.mark.parametrize("path", SIGN_INS)
def test_after_three_failures_from_one_ip_even_the_right_password_is_refused(client, staff_account, path):
    codes = [sign_in(client, path, "wrong", "10.1.1.1").status_code for _ in range(3)]
    assert codes[:2] == [200, 200]  # the form again, with an error; the third failure locks

    refused = sign_in(client, path, "pw-ops-correct", "10.1.1.1")

    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("path", SIGN_INS)
def test_failures_for_one_username_from_many_ips_lock_that_username(client, staff_account, path):
    for n in range(3):
        sign_in(client, path, "wrong", f"10.2.2.{n + 1}")

    refused = sign_in(client, path, "pw-ops-correct", "10.2.2.200")

    assert refused.status_code == 429
    assert "_auth_user_id" not in client.session


def test_an_operator_unlocks_a_username(client, staff_account):
    for n in range(3):
        sign_in(client, "/admin/login/", "wrong", f"10.3.3.{n + 1}")

    call_command("axes_reset_username", "ops")
    signed_in = sign_in(client, "/admin/login/", "pw-ops-correct", "10.3.3.200")

    assert signed_in.status_code == 302
    assert client.session["_auth_user_id"] == str(staff_account.pk)


@pytest.mark.parametrize("path", ["/accounts/password_reset/", "/accounts/reset/MQ/set-password/"])
def test_there_is_no_password_reset_by_mail(client, path):
    assert client.post(path, {"email": "ops@example.com"}).status_code == 404
