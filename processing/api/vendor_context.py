from rest_framework.exceptions import PermissionDenied

from vendors.models import Vendor
from vendors.selectors import vendor_for_user

VENDOR_HEADER = "HTTP_X_DARKROOM_VENDOR"


class VendorScopedMixin:
    """Resolves the vendor a request acts for: the one named by X-Darkroom-Vendor, else the
    user's first. Everything the view reads or changes is scoped by it."""

    def vendor(self, request) -> Vendor:
        if not hasattr(request, "_darkroom_vendor"):
            vendor = vendor_for_user(user=request.user, slug=request.META.get(VENDOR_HEADER))
            if vendor is None:
                raise PermissionDenied("this account is not a member of an active vendor")
            request._darkroom_vendor = vendor
        return request._darkroom_vendor
