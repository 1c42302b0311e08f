"""Operators' view of jobs and batches. Every action calls processing.jobs.services, the same
services the API uses; the admin only lists, shows and forwards."""

from __future__ import annotations

import json
import uuid

from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join
from django_dramatiq.models import Task as DramatiqTask

from processing.jobs import selectors, services
from processing.jobs.models import Batch, Job
from processing.jobs.states import JobState
from processing.lib.media import media_url
from vendors.models import Priority


def _ids(queryset: QuerySet[Job]) -> list[uuid.UUID]:
    # Only the keys: "select all N" over 10,000 rows must not load 10,000 objects.
    return list(queryset.order_by().values_list("pk", flat=True))


@admin.action(description="Retry selected failed or cancelled jobs", permissions=["change"])
def retry_jobs(modeladmin, request, queryset):
    count = services.jobs_retry(job_ids=_ids(queryset))
    modeladmin.message_user(request, f"{count} job(s) queued again.", messages.SUCCESS)


@admin.action(description="Re-queue selected dead letters (failed jobs)", permissions=["change"])
def requeue_dead_letters(modeladmin, request, queryset):
    count = services.jobs_retry(job_ids=_ids(queryset.filter(state=JobState.FAILED)))
    modeladmin.message_user(request, f"{count} failed job(s) queued again.", messages.SUCCESS)


@admin.action(description="Cancel selected waiting or running jobs", permissions=["change"])
def cancel_jobs(modeladmin, request, queryset):
    count = services.jobs_cancel(job_ids=_ids(queryset))
    modeladmin.message_user(request, f"{count} job(s) cancelled.", messages.SUCCESS)


def _set_priority_action(priority: Priority):
    def action(modeladmin, request, queryset):
        count = services.jobs_set_priority(job_ids=_ids(queryset), priority=priority.label)
        modeladmin.message_user(request, f"{count} waiting job(s) set to {priority.label} priority.", messages.SUCCESS)

    action.__name__ = f"set_priority_{priority.label}"
    return admin.action(
        description=f"Set priority of selected waiting jobs to {priority.label}", permissions=["change"]
    )(action)


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "vendor",
        "kind",
        "state",
        "priority",
        "progress_percent",
        "attempts",
        "error_code",
        "created_at",
        "finished_at",
    ]
    list_filter = [
        "state",
        "kind",
        ("vendor", admin.RelatedOnlyFieldListFilter),
        "priority",
        "created_at",
        "finished_at",
    ]
    date_hierarchy = "created_at"
    search_fields = ["error_message", "error_code", "record__original_filename"]
    search_help_text = "A job id, a batch id, a record id, or words of the error message."
    list_select_related = ["vendor"]
    show_full_result_count = False
    actions = [
        retry_jobs,
        requeue_dead_letters,
        cancel_jobs,
        *(_set_priority_action(p) for p in (Priority.HIGH, Priority.NORMAL, Priority.LOW)),
    ]
    fieldsets = [
        (None, {"fields": ["id", "vendor", "kind", "state", "priority", "record", "batch", "input_url", "request_id"]}),
        ("Parameters", {"fields": ["params_display"]}),
        ("Progress", {"fields": ["progress_display", "heartbeat_at"]}),
        ("Attempts", {"fields": ["attempts_display", "error_code", "error_message", "traceback_display"]}),
        ("Timings", {"fields": ["created_at", "dispatched_at", "not_before", "started_at", "finished_at", "timings"]}),
        ("Result", {"fields": ["result_preview"]}),
    ]
    readonly_fields = [
        "id",
        "vendor",
        "kind",
        "state",
        "priority",
        "record",
        "batch",
        "input_url",
        "request_id",
        "params_display",
        "progress_display",
        "heartbeat_at",
        "attempts_display",
        "error_code",
        "error_message",
        "traceback_display",
        "created_at",
        "dispatched_at",
        "not_before",
        "started_at",
        "finished_at",
        "timings",
        "result_preview",
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs are started through the API, with their quotas and validation

    def has_change_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        # A job changes only through the actions (services): saving the form would write
        # stale values over a worker's progress.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Job | None = None) -> bool:
        return False  # retention removes finished jobs

    def get_search_results(self, request, queryset, search_term):
        """Ids are matched exactly (a UUID: the job or its batch; a number: its record);
        anything else searches the error text and the record's file name."""
        term = search_term.strip()
        try:
            key = uuid.UUID(term)
        except ValueError:
            key = None
        if key is not None:
            return queryset.filter(Q(pk=key) | Q(batch_id=key)), False
        if term.isdigit():
            return queryset.filter(record_id=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Parameters")
    def params_display(self, job: Job) -> str:
        return format_html("<pre>{}</pre>", json.dumps(job.run_params, indent=2, sort_keys=True))

    @admin.display(description="Progress")
    def progress_display(self, job: Job) -> str:
        return format_html(
            '<progress max="100" value="{}"></progress> {}% {} {}',
            job.progress_percent,
            job.progress_percent,
            job.progress_stage or "",
            job.progress_message or "",
        )

    @admin.display(description="Attempts")
    def attempts_display(self, job: Job) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (e.get("attempt"), e.get("at"), e.get("code"), e.get("detail") or e.get("message"))
                for e in job.attempt_errors or []
            ),
        )
        return format_html(
            "{} of {} attempt(s)<table><thead><tr><th>Attempt</th><th>At</th><th>Code</th><th>Error</th></tr>"
            "</thead><tbody>{}</tbody></table>",
            job.attempts,
            job.max_attempts,
            rows,
        )

    @admin.display(description="Traceback of the last failure")
    def traceback_display(self, job: Job) -> str:
        return format_html("<pre>{}</pre>", job.error_traceback) if job.error_traceback else "—"

    @admin.display(description="Durations")
    def timings(self, job: Job) -> str:
        start = job.started_at
        end = job.finished_at
        waited = (start - job.created_at).total_seconds() if start else None
        ran = (end - start).total_seconds() if start and end else None
        return format_html(
            "waited {} s before its last start; ran {} s",
            "—" if waited is None else f"{waited:.2f}",
            "—" if ran is None else f"{ran:.2f}",
        )

    @admin.display(description="Result")
    def result_preview(self, job: Job) -> str:
        result = job.result
        if not result or not result.get("name"):
            return "—"
        url = media_url(result["name"])
        if str(result.get("content_type", "")).startswith("image/"):
            # The record's small preview of this very result when there is one; the link opens it in full.
            record = job.record if job.record_id else None
            previewed = record is not None and record.processed_thumbnail and record.processed.name == result["name"]
            return format_html(
                '<a href="{}"><img src="{}" alt="result of job {}" style="max-width: 480px; max-height: 480px; '
                'background: repeating-conic-gradient(#ddd 0% 25%, #fff 0% 50%) 0 0 / 16px 16px"></a>'
                "<br>{} × {} {}",
                url,
                media_url(record.processed_thumbnail.name) if previewed else url,
                job.pk,
                result.get("width"),
                result.get("height"),
                result.get("content_type"),
            )
        document = selectors.job_result_document(job=job)
        if document is not None:
            try:
                document = json.dumps(json.loads(document), indent=2, ensure_ascii=False)
            except ValueError:
                pass  # cut at the size limit: show it as it is
        return format_html(
            '<pre class="dr-result-json">{}</pre><a href="{}">{}</a>',
            document if document is not None else json.dumps(result, indent=2),
            url,
            result["name"],
        )


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "vendor", "kind", "total", "created_at", "finished_at"]
    list_filter = ["kind", "vendor"]
    readonly_fields = [f.name for f in Batch._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


# django_dramatiq's task log stays empty (its admin middleware is not used: the Job row is
# the record), so its admin page would only mislead operators.
if admin.site.is_registered(DramatiqTask):
    admin.site.unregister(DramatiqTask)
