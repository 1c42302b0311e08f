from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from processing.api.media_views import media_view
from processing.ops import health, health_report
from processing.ops.metrics import metrics_view
from processing.portal.sign_in import RateLimitedLoginView

urlpatterns = [
    path("admin/queues/", include("processing.admin.dashboard")),
    path("admin/usage/", include("processing.admin.usage")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("processing.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Its script as a file of its own (the split view), so the CSP needs no inline script.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="swagger-ui"),
    path("metrics", metrics_view, name="metrics"),
    path("health/", health_report.health_view, name="health"),
    path("health/live", health.live_view, name="health-live"),
    path("health/ready", health.ready_view, name="health-ready"),
    path("accounts/login/", RateLimitedLoginView.as_view(), name="login"),
    # No password reset by e-mail (an unauthenticated mail sender); operators set passwords.
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password_change/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password_change/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("", include("processing.portal.urls")),
]

handler404 = "processing.api.errors.not_found_handler"
handler500 = "processing.api.errors.server_error_handler"

# Every stored file, private: a signed link or a member's request (processing/api/media_views.py).
# Nothing under MEDIA_ROOT is served without that check; S3 and Cloudinary sign their own links.
urlpatterns += [re_path(rf"^{settings.MEDIA_URL.lstrip('/')}(?P<path>.+)$", media_view, name="media")]
