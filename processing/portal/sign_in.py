"""Sign-in attempts count against the per-IP limit for anonymous callers (ANON_RATE_LIMIT)."""

from django.contrib import messages
from django.contrib.auth import views as auth_views

from vendors import quotas


class RateLimitedLoginView(auth_views.LoginView):
    def post(self, request, *args, **kwargs):
        try:
            quotas.anonymous_consume(request=request)
        except quotas.QuotaExceeded as refusal:
            reset = refusal.usage.reset_at.strftime("%H:%M UTC") if refusal.usage.reset_at else "soon"
            messages.error(request, f"Too many sign-in attempts from your address. Try again after {reset}.")
            response = self.get(request, *args, **kwargs)
            response.status_code = 429
            return response
        return super().post(request, *args, **kwargs)
