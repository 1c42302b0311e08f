"""Operators' view of plans and vendors: limits with their live usage, pause and resume, and
each vendor's jobs by state. Changes go through vendors.services, as from the API."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from processing.admin.data import offboard_vendor
from processing.admin.read_only import ReadOnlyAdmin
from processing.engine.deletions import project_deletion_send
from processing.jobs import services as job_services
from processing.jobs.selectors import queue_stats
from processing.lib.media import media_url
from vendors import services
from vendors.models import ApiToken, AuditEvent, Membership, Plan, Project, Record, StorageDeletion, User, Vendor
from vendors.quotas import quota_usage
from vendors.selectors import vendor_storage

STATES = ["waiting", "delayed", "dispatched", "active", "completed", "failed", "cancelled"]
# queue_stats names -> the job state to filter the job list by.
STATE_FILTERS = {
    "waiting": "queued",
    "delayed": "queued",
    "dispatched": "queued",
    "active": "running",
    "completed": "succeeded",
    "failed": "failed",
    "cancelled": "cancelled",
}


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "name",
        "image_requests_limit",
        "remove_bg_limit",
        "bulk_limit",
        "read_requests_limit",
        "uploads_limit",
        "ai_calls_limit",
        "ai_tokens_limit",
        "storage_bytes_limit",
        "retention_days",
        "max_in_flight",
        "default_priority",
    ]
    search_fields = ["slug", "name"]
    fieldsets = [
        (None, {"fields": ["slug", "name"]}),
        (
            "Request limits (empty: no limit) and their windows in seconds",
            {
                "fields": [
                    ("image_requests_limit", "image_requests_window_s"),
                    ("remove_bg_limit", "remove_bg_window_s"),
                    ("bulk_limit", "bulk_window_s"),
                    ("read_requests_limit", "read_requests_window_s"),
                    ("uploads_limit", "uploads_window_s"),
                    ("ai_calls_limit", "ai_calls_window_s"),
                    ("ai_tokens_limit", "ai_tokens_window_s"),
                ]
            },
        ),
        ("Storage (empty: no limit)", {"fields": ["storage_bytes_limit"]}),
        ("Retention (empty: kept until deleted)", {"fields": ["retention_days"]}),
        ("Scheduling", {"fields": ["max_in_flight", "default_priority"]}),
        ("API keys", {"fields": ["never_expiring_api_keys"]}),
    ]

    def has_delete_permission(self, request: HttpRequest, obj: Plan | None = None) -> bool:
        # A plan in use cannot go (its vendors would lose their limits).
        return super().has_delete_permission(request, obj) and (obj is None or not obj.vendors.exists())


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Django's user admin, for our user model (AUTH_USER_MODEL = vendors.User)."""


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.action(description="Pause selected vendors (their waiting jobs hold)", permissions=["change"])
def pause_vendors(modeladmin, request, queryset):
    for vendor in queryset:
        services.vendor_set_paused(vendor=vendor, paused=True)
    modeladmin.message_user(request, f"{len(queryset)} vendor(s) paused.", messages.SUCCESS)


@admin.action(description="Resume selected vendors", permissions=["change"])
def resume_vendors(modeladmin, request, queryset):
    for vendor in queryset:
        services.vendor_set_paused(vendor=vendor, paused=False)
    modeladmin.message_user(request, f"{len(queryset)} vendor(s) resumed.", messages.SUCCESS)


@admin.register(Vendor)
class VendorAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "plan", "is_active", "is_paused", "created_at"]
    list_filter = ["plan", "is_active", "is_paused"]
    list_select_related = ["plan"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]
    actions = [pause_vendors, resume_vendors, offboard_vendor]
    fieldsets = [
        (None, {"fields": ["slug", "name", "is_active", "paused_display"]}),
        ("Plan and limits", {"fields": ["plan", "limit_overrides", "quota_table"]}),
        ("Jobs", {"fields": ["jobs_by_state"]}),
    ]
    readonly_fields = ["paused_display", "quota_table", "jobs_by_state"]

    def get_readonly_fields(self, request, obj=None):
        return [*self.readonly_fields, "slug"] if obj else self.readonly_fields

    def has_offboard_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("vendors.delete_vendor")

    def has_delete_permission(self, request: HttpRequest, obj: Vendor | None = None) -> bool:
        # A vendor goes only by offboarding (its files, Redis keys and users with it), never as a bare row.
        return False

    def get_fieldsets(self, request, obj=None):
        if obj is None:  # usage and jobs only exist once the vendor does
            return [(None, {"fields": ["slug", "name", "is_active"]}), ("Plan and limits", {"fields": ["plan"]})]
        return self.fieldsets

    def save_model(self, request, obj: Vendor, form, change: bool) -> None:
        data = form.cleaned_data
        if not change:
            created = services.vendor_create(slug=data["slug"], name=data["name"], plan_slug=data["plan"].slug)
            obj.pk, obj.slug, obj.created_at = created.pk, created.slug, created.created_at
            obj._state.adding = False
        overrides = data.get("limit_overrides", obj.limit_overrides) or {}
        try:
            services.vendor_update(
                vendor=obj, name=data["name"], plan=data["plan"], is_active=data["is_active"], limit_overrides=overrides
            )
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def get_urls(self):
        own = [
            path("<int:vendor_id>/pause/", self.admin_site.admin_view(self.pause_view), name="vendors_vendor_pause"),
            path("<int:vendor_id>/resume/", self.admin_site.admin_view(self.resume_view), name="vendors_vendor_resume"),
        ]
        return own + super().get_urls()

    def _set_paused(self, request: HttpRequest, vendor_id: int, paused: bool):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        vendor = get_object_or_404(Vendor, pk=vendor_id)
        if not self.has_change_permission(request, vendor):
            return HttpResponseRedirect(reverse("admin:index"))
        services.vendor_set_paused(vendor=vendor, paused=paused)
        self.message_user(request, f"{vendor} {'paused' if paused else 'resumed'}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:vendors_vendor_change", args=[vendor.pk]))

    def pause_view(self, request: HttpRequest, vendor_id: int):
        return self._set_paused(request, vendor_id, True)

    def resume_view(self, request: HttpRequest, vendor_id: int):
        return self._set_paused(request, vendor_id, False)

    @admin.display(description="Paused")
    def paused_display(self, vendor: Vendor) -> str:
        # The buttons submit the change form (and its CSRF token) to the pause/resume views.
        if vendor.is_paused:
            return format_html(
                'Paused: waiting jobs hold. <button type="submit" formaction="{}" class="button">Resume</button>',
                reverse("admin:vendors_vendor_resume", args=[vendor.pk]),
            )
        return format_html(
            'Running. <button type="submit" formaction="{}" class="button">Pause</button>',
            reverse("admin:vendors_vendor_pause", args=[vendor.pk]),
        )

    @admin.display(description="Limits and live usage")
    def quota_table(self, vendor: Vendor) -> str:
        try:
            usages = quota_usage(vendor=vendor)
        except Exception as exc:  # Redis unreachable: the rest of the page still works
            return f"usage unavailable ({type(exc).__name__})"
        rows = format_html_join(
            "",
            '<tr data-quota="{}"><td>{}</td><td class="dr-used">{} / {}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    u.name,
                    u.description,
                    u.used,
                    "no limit" if u.limit is None else u.limit,
                    "—" if u.remaining is None else u.remaining,
                    f"{u.window_s} s",
                    u.reset_at.strftime("%Y-%m-%d %H:%M:%S UTC") if u.reset_at else "—",
                )
                for u in usages
            ),
        )
        storage = vendor_storage(vendor=vendor)
        rows += format_html(
            '<tr data-quota="storage_bytes"><td>bytes stored</td><td class="dr-used">{} / {}</td><td>{}</td>'
            "<td>—</td><td>—</td></tr>",
            storage.used,
            "no limit" if storage.limit is None else storage.limit,
            "—" if storage.remaining is None else storage.remaining,
        )
        return format_html(
            "<table><thead><tr><th>Limit</th><th>Used / limit</th><th>Remaining</th><th>Window</th>"
            "<th>Resets at</th></tr></thead><tbody>{}</tbody></table>"
            "<p>Limits come from the plan; <code>limit_overrides</code> above replaces any of them for "
            'this vendor, e.g. <code>{{"remove_bg_limit": 100}}</code>.</p>',
            rows,
        )

    @admin.display(description="Jobs by state")
    def jobs_by_state(self, vendor: Vendor) -> str:
        stats = queue_stats(vendor=vendor)
        jobs_url = reverse("admin:processing_job_changelist")

        def link(kind: str | None, state: str, count: int) -> str:
            query = f"?vendor__id__exact={vendor.pk}&state={STATE_FILTERS[state]}" + (f"&kind={kind}" if kind else "")
            return format_html('<a href="{}{}">{}</a>', jobs_url, query, count) if count else "0"

        totals = {state: sum(s[state] for s in stats.values()) for state in STATES}
        header = format_html_join("", "<th>{}</th>", ((s,) for s in STATES))
        body = format_html_join(
            "",
            "<tr><td>{}</td>{}</tr>",
            (
                (kind, format_html_join("", "<td>{}</td>", ((link(kind, s, counts[s]),) for s in STATES)))
                for kind, counts in sorted(stats.items())
                if counts["total"]
            ),
        )
        total_row = format_html_join("", "<td>{}</td>", ((link(None, s, totals[s]),) for s in STATES))
        return format_html(
            '<table class="dr-jobs-by-state"><thead><tr><th>Kind</th>{}</tr></thead><tbody>{}'
            "<tr><th>All</th>{}</tr></tbody></table>",
            header,
            body,
            total_row,
        )


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    """Deleting a project here deletes it as its owner would: in the background, with its
    records' files, noted in the audit trail as the operator's."""

    list_display = ["name", "vendor", "created_at"]
    list_filter = ["vendor"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(deletion_requested_at__isnull=True)

    def delete_model(self, request: HttpRequest, obj: Project) -> None:
        self.delete_queryset(request, Project.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for project in queryset.select_related("vendor"):
            try:
                deletion = job_services.project_delete_start(
                    vendor=project.vendor, project=project, actor=request.user, operator=True
                )
            except job_services.ProjectAlreadyDeleting:
                continue
            project_deletion_send(deletion.pk)

    def get_deleted_objects(self, objs, request):
        # The confirmation page lists the projects alone: their records go in the background.
        return [str(obj) for obj in objs], {"projects": len(objs)}, set(), []


_PREVIEW = (
    '<a href="{}"><img src="{}" alt="{}" style="max-width: 96px; max-height: 96px; '
    'background: repeating-conic-gradient(#ddd 0% 25%, #fff 0% 50%) 0 0 / 12px 12px"></a>'
)


@admin.register(Record)
class RecordAdmin(admin.ModelAdmin):
    list_display = ["id", "previews", "original_filename", "vendor", "project", "processed_at", "created_at"]
    list_filter = ["vendor"]
    search_fields = ["original_filename"]
    raw_id_fields = ["project"]
    readonly_fields = ["previews"]

    def delete_model(self, request: HttpRequest, obj: Record) -> None:
        self.delete_queryset(request, Record.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        """As a vendor's delete: files, jobs, quota, audit line (the operator's)."""
        by_vendor: dict[int, list[int]] = {}
        for record_id, vendor_id in queryset.values_list("pk", "vendor_id"):
            by_vendor.setdefault(vendor_id, []).append(record_id)
        for vendor in Vendor.objects.filter(pk__in=by_vendor):
            job_services.records_delete(
                vendor=vendor, record_ids=by_vendor[vendor.pk], actor=request.user, operator=True
            )

    def get_deleted_objects(self, objs, request):
        # The records alone: their jobs stay as counts (without results), nothing else goes.
        return [str(obj) for obj in objs], {"records": len(objs)}, set(), []

    @admin.display(description="Previews")
    def previews(self, record: Record) -> str:
        """The small previews, each linking to its full image (never loaded in the list)."""
        shown = [
            format_html(_PREVIEW, media_url(full.name), media_url(preview.name), label)
            for full, preview, label in (
                (record.original, record.original_thumbnail, "original"),
                (record.processed, record.processed_thumbnail, "result"),
            )
            if full and preview
        ]
        return format_html_join(" ", "{}", ((html,) for html in shown)) or "—"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Keys by prefix only: the key itself was shown once to its owner and is not stored, so
    nothing here lets an operator act as a vendor. Operators revoke (delete) keys here."""

    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at"]
    list_filter = ["expires_at"]
    search_fields = ["prefix", "name", "user__username"]
    fields = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at"]
    readonly_fields = ["prefix", "user", "created_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are made by their owner, who sees the key once (API or portal)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Who deleted, exported or offboarded what, and when: read-only, kept after the data."""

    list_display = ["created_at", "action", "actor_kind", "actor_name", "vendor_slug", "target", "count"]
    list_filter = ["action", "actor_kind"]
    search_fields = ["vendor_slug", "actor_name", "target"]
    date_hierarchy = "created_at"


@admin.register(StorageDeletion)
class StorageDeletionAdmin(ReadOnlyAdmin):
    """The deletion journal: files waiting to be removed from storage (a retry after a failure
    shows its attempts and last error). Read-only: the retention run drains it."""

    list_display = ["name", "prefix", "vendor_id", "due_at", "attempts", "last_error"]
    list_filter = ["prefix"]
    search_fields = ["name"]
