from django.urls import path

from processing.api import (
    bulk_views,
    events_views,
    export_views,
    job_views,
    project_views,
    token_views,
    usage_views,
    webhook_views,
)

# Object ids are matched as any text and looked up by the selectors, so a malformed id is the
# same JSON 404 as an unknown one (a converter would answer Django's HTML 404).
urlpatterns = [
    path("jobs/", job_views.JobListCreateApi.as_view(), name="job-list"),
    path("jobs/bulk/", bulk_views.BulkCreateApi.as_view(), name="job-bulk"),
    path("jobs/<str:job_id>/", job_views.JobDetailApi.as_view(), name="job-detail"),
    path("jobs/<str:job_id>/cancel/", job_views.JobCancelApi.as_view(), name="job-cancel"),
    path("jobs/<str:job_id>/retry/", job_views.JobRetryApi.as_view(), name="job-retry"),
    path("batches/<str:batch_id>/", bulk_views.BatchDetailApi.as_view(), name="batch-detail"),
    path("batches/<str:batch_id>/cancel/", bulk_views.BatchCancelApi.as_view(), name="batch-cancel"),
    path("projects/", project_views.ProjectListCreateApi.as_view(), name="project-list"),
    path("projects/<str:project_id>/", project_views.ProjectDetailApi.as_view(), name="project-detail"),
    path(
        "project-deletions/<str:deletion_id>/",
        project_views.ProjectDeletionApi.as_view(),
        name="project-deletion",
    ),
    path("projects/<str:project_id>/records/", project_views.ProjectRecordsApi.as_view(), name="project-records"),
    path("records/<str:record_id>/", project_views.RecordDetailApi.as_view(), name="record-detail"),
    path("exports/", export_views.ExportListCreateApi.as_view(), name="export-list"),
    path("exports/<str:export_id>/", export_views.ExportDetailApi.as_view(), name="export-detail"),
    path("exports/<str:export_id>/download/", export_views.ExportDownloadApi.as_view(), name="export-download"),
    path("queue/stats/", usage_views.QueueStatsApi.as_view(), name="queue-stats"),
    path("quota/", usage_views.QuotaApi.as_view(), name="quota"),
    path("usage/", usage_views.UsageApi.as_view(), name="usage"),
    path("events/", events_views.EventStreamApi.as_view(), name="events"),
    path("tokens/", token_views.TokenListCreateApi.as_view(), name="token-list"),
    path("vendor-tokens/", token_views.VendorTokenListApi.as_view(), name="vendor-token-list"),
    path("vendor-tokens/revoke-all/", token_views.VendorTokenRevokeAllApi.as_view(), name="vendor-token-revoke-all"),
    path("tokens/<str:token_id>/", token_views.TokenDetailApi.as_view(), name="token-detail"),
    path("tokens/<str:token_id>/rotate/", token_views.TokenRotateApi.as_view(), name="token-rotate"),
    path("webhooks/", webhook_views.WebhookListCreateApi.as_view(), name="webhook-list"),
    path("webhooks/<str:endpoint_id>/", webhook_views.WebhookDetailApi.as_view(), name="webhook-detail"),
    path(
        "webhooks/<str:endpoint_id>/rotate-secret/",
        webhook_views.WebhookRotateSecretApi.as_view(),
        name="webhook-rotate-secret",
    ),
    path(
        "webhooks/<str:endpoint_id>/deliveries/",
        webhook_views.WebhookDeliveriesApi.as_view(),
        name="webhook-deliveries",
    ),
]
