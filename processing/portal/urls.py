from django.urls import path

from processing.portal import actions, downloads, exports, tokens, views

app_name = "portal"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("vendor/", views.vendor_switch, name="vendor-switch"),
    path("projects/", views.project_create, name="project-create"),
    path("projects/<int:pk>/", views.project_detail, name="project"),
    path("projects/<int:pk>/upload/", actions.record_upload, name="record-upload"),
    path("projects/<int:pk>/start/", actions.jobs_start, name="jobs-start"),
    path("projects/<int:pk>/delete/", actions.records_delete, name="records-delete"),
    path("projects/<int:pk>/generate/", actions.image_generate, name="image-generate"),
    path("records/<int:pk>/", views.record_detail, name="record"),
    path("records/<int:pk>/download/", downloads.record_download, name="record-download"),
    path("jobs/", views.job_list, name="jobs"),
    path("usage/", views.usage, name="usage"),
    path("exports/", exports.export_list, name="exports"),
    path("exports/new/", exports.export_create, name="export-create"),
    path("exports/<uuid:pk>/download/", exports.export_download, name="export-download"),
    path("api-keys/", tokens.token_list, name="tokens"),
    path("api-keys/new/", tokens.token_create, name="token-create"),
    path("api-keys/revoke-all/", tokens.vendor_tokens_revoke_all, name="vendor-tokens-revoke-all"),
    path("api-keys/<int:pk>/rotate/", tokens.token_rotate, name="token-rotate"),
    path("api-keys/<int:pk>/revoke/", tokens.token_revoke, name="token-revoke"),
    path("jobs/<uuid:pk>/cancel/", actions.job_cancel, name="job-cancel"),
    path("jobs/<uuid:pk>/retry/", actions.job_retry, name="job-retry"),
    path("jobs/<uuid:pk>/download/", downloads.job_download, name="job-download"),
    path("batches/<uuid:pk>/status/", actions.batch_status, name="batch-status"),
    path("batches/<uuid:pk>/retry/", actions.batch_retry_failed, name="batch-retry"),
    path("batches/<uuid:pk>/download/", downloads.batch_download, name="batch-download"),
]
