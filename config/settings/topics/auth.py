"""Users, sign-in (django-axes lockouts) and API tokens."""

from config.env import env

# Our own user model (vendors.User), in place before there is production data; docs/user-model.md.
AUTH_USER_MODEL = "vendors.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
# Every sign-in (portal, admin) goes through django-axes: after AXES_FAILURE_LIMIT failures from
# one IP (the client's, behind TRUSTED_PROXIES), further attempts from it are refused (429) for
# AXES_COOLOFF_H hours or until an operator deletes the attempts (admin "Access attempts", or
# `axes_reset_username`). A username is locked only for the IP that guessed it: others' guesses
# cannot lock an operator out. Guesses at one username from many IPs raise an alert instead
# (an ERROR log line, `vendors.sign_in`) at AXES_USERNAME_ALERT_FAILURES within the cool-off.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=10)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_H", default=1)
AXES_LOCKOUT_PARAMETERS = ["ip_address", ["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "vendors.quotas.client_ip"
AXES_USERNAME_ALERT_FAILURES = env.int("AXES_USERNAME_ALERT_FAILURES", default=50)
AXES_RESET_ON_SUCCESS = True
# API tokens expire this many days after they are made or rotated (0: never).
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=365)
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"
