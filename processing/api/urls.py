from django.urls import path

from . import views

urlpatterns = [
    path("jobs/", views.JobListCreateApi.as_view(), name="job-list"),
    path("jobs/<uuid:job_id>/", views.JobDetailApi.as_view(), name="job-detail"),
]
