from django.contrib import admin

from .models import Batch, Job


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "vendor", "kind", "state", "priority", "progress_percent", "attempts", "created_at"]
    list_filter = ["state", "kind", "vendor", "priority"]
    search_fields = ["id", "error_message"]
    raw_id_fields = ["record", "batch"]
    readonly_fields = [f.name for f in Job._meta.fields]


@admin.register(Batch)
class BatchAdmin(admin.ModelAdmin):
    list_display = ["id", "vendor", "kind", "total", "created_at", "finished_at"]
    list_filter = ["kind", "vendor"]
