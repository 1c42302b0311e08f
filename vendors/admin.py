from django.contrib import admin

from .models import Membership, Plan, Project, Record, Vendor


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "image_requests_limit",
        "remove_bg_limit",
        "bulk_limit",
        "max_in_flight",
        "default_priority",
    ]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "plan", "is_active", "is_paused", "created_at"]
    list_filter = ["plan", "is_active", "is_paused"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "vendor", "created_at"]
    list_filter = ["vendor"]
    search_fields = ["name"]


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["id", "original_filename", "vendor", "project", "processed_at", "created_at"]
    list_filter = ["vendor"]
    search_fields = ["original_filename"]
    raw_id_fields = ["project"]
