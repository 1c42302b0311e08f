import random

import pytest

pytestmark = pytest.mark.django_db


def test_sign_in_attempts_past_the_per_ip_limit_are_refused_with_a_sentence(client, settings, member):
    settings.ANON_RATE_LIMIT = "3/15m"
    address = f"10.{random.randint(0, 255)}.{random.randint(0, 255)}.{random.randint(1, 254)}"  # fresh counter
    for _ in range(3):
        wrong = client.post("/accounts/login/", {"username": "acme-member", "password": "wrong"}, REMOTE_ADDR=address)
        assert wrong.status_code == 200
    refused = client.post(
        "/accounts/login/", {"username": "acme-member", "password": "pw-acme-member"}, REMOTE_ADDR=address
    )
    assert refused.status_code == 429
    assert b"Too many sign-in attempts" in refused.content and b"Try again after" in refused.content
    assert "_auth_user_id" not in client.session
