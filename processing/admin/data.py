"""Operators' view of exports and offboardings, and the offboarding action itself: the operator
types the vendor's slug to confirm; a worker then removes the vendor and everything it stored."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import FileResponse, Http404, HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from processing.admin.read_only import ReadOnlyAdmin
from processing.engine.offboarding import (
    OffboardingAlreadyRunning,
    OffboardingConfirmationMismatch,
    offboarding_send,
    vendor_offboard_start,
)
from processing.jobs.services.exports import ExportNotReady, export_download_url, export_open
from processing.lib.http.stored_files import protect_stored_file
from vendors.models import Export, Record, VendorOffboarding


@admin.action(description="Offboard the selected vendor (remove it and everything it stored)", permissions=["offboard"])
def offboard_vendor(modeladmin, request: HttpRequest, queryset):
    """An intermediate page: the vendor's slug must be typed; then the work goes to a worker."""
    if queryset.count() != 1:
        modeladmin.message_user(request, "Offboard one vendor at a time.", messages.ERROR)
        return None
    vendor = queryset.get()
    error = ""
    if request.POST.get("confirm_slug") is not None:
        try:
            offboarding = vendor_offboard_start(
                vendor=vendor, confirmation=request.POST["confirm_slug"], actor=request.user
            )
        except OffboardingConfirmationMismatch:
            error = "That is not the vendor's slug: nothing was done."
        except OffboardingAlreadyRunning:
            error = "This vendor is being offboarded already: follow it under “Vendor offboardings”."
        else:
            offboarding_send(offboarding.pk)
            modeladmin.message_user(
                request,
                f"{vendor.slug} is inactive and being removed with everything it stored; follow it under "
                "“Vendor offboardings”.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:vendors_vendoroffboarding_change", args=[offboarding.pk]))
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Offboard {vendor.slug}",
        "vendor": vendor,
        "records": Record.objects.filter(vendor=vendor).count(),
        "members": vendor.memberships.count(),
        "error": error,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/vendors/offboard.html", context, status=400 if error else 200)


@admin.register(VendorOffboarding)
class VendorOffboardingAdmin(ReadOnlyAdmin):
    """What each offboarding removed; read-only, kept after the vendor."""

    list_display = ["created_at", "vendor_slug", "vendor_id", "state", "requested_by_name", "finished_at"]
    list_filter = ["state"]
    search_fields = ["vendor_slug"]
    readonly_fields = [f.name for f in VendorOffboarding._meta.fields]


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    """Vendors' exports; an operator may download one (an audit line says so)."""

    list_display = ["created_at", "vendor", "scope", "project_name", "state", "done", "total", "size_bytes", "link"]
    list_filter = ["state", "scope"]
    search_fields = ["vendor__slug", "project_name"]
    readonly_fields = [f.name for f in Export._meta.fields] + ["link"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        own = [
            path(
                "<uuid:export_id>/download/",
                self.admin_site.admin_view(self.download_view),
                name="vendors_export_download",
            )
        ]
        return own + super().get_urls()

    @admin.display(description="Download")
    def link(self, export: Export) -> str:
        if export_download_url(export=export) is None:
            return "—"
        return format_html('<a href="{}">ZIP</a>', reverse("admin:vendors_export_download", args=[export.pk]))

    def download_view(self, request: HttpRequest, export_id):
        export = Export.objects.select_related("vendor").filter(pk=export_id).first()
        if export is None or not self.has_view_permission(request, export):
            return HttpResponseRedirect(reverse("admin:index"))
        try:
            source, filename = export_open(export=export, actor=request.user, operator=True)
        except ExportNotReady:
            raise Http404("this export has no file (not ready, failed or expired)") from None
        response = FileResponse(source, as_attachment=True, filename=filename, content_type="application/zip")
        return protect_stored_file(response)
