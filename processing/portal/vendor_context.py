"""Which vendor a portal request acts for: the one chosen in the session, else the user's first."""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from vendors.models import Vendor
from vendors.selectors import vendor_for_user, vendors_of_user

SESSION_KEY = "portal_vendor"


def current_vendor(request) -> Vendor | None:
    if not hasattr(request, "_portal_vendor"):
        chosen = request.session.get(SESSION_KEY)
        vendor = vendor_for_user(user=request.user, slug=chosen)
        if vendor is None and chosen:  # membership ended or vendor deactivated since it was chosen
            vendor = vendor_for_user(user=request.user)
        request._portal_vendor = vendor
    return request._portal_vendor


def choose_vendor(request, slug: str) -> Vendor | None:
    vendor = vendor_for_user(user=request.user, slug=slug)
    if vendor is not None:
        request.session[SESSION_KEY] = vendor.slug
        request._portal_vendor = vendor
    return vendor


def vendor_view(view):
    """Signed in and a member of an active vendor; the view gets that vendor as `vendor`."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        vendor = current_vendor(request)
        if vendor is None:
            return render(request, "portal/no_vendor.html", status=403)
        return view(request, *args, vendor=vendor, **kwargs)

    return wrapper


def render_portal(request, template: str, context: dict, *, status: int = 200):
    vendor = current_vendor(request)
    base = {"vendor": vendor, "vendors": list(vendors_of_user(user=request.user))}
    return render(request, template, {**base, **context}, status=status)
