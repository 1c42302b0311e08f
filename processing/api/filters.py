"""Filters of the job list. Unknown query parameters are ignored; a bad or empty value is a 400."""

import django_filters
from django import forms
from drf_spectacular.utils import extend_schema_field

from processing.api.serializers import MAX_ID
from processing.jobs.kinds import PROCESSORS
from processing.jobs.models import Job
from processing.jobs.states import JobState


@extend_schema_field({"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_ID})
class IdFilter(django_filters.Filter):
    """A database id: an integer within BIGINT, so a huge number is a 400, not a database error."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, min_value=1, max_value=MAX_ID, **kwargs)


class JobFilter(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(choices=JobState.choices, help_text="One or more states.")
    kind = django_filters.MultipleChoiceFilter(choices=[(kind, kind) for kind in sorted(PROCESSORS)])
    project = IdFilter(field_name="record__project_id")
    record = IdFilter(field_name="record_id")
    batch = django_filters.UUIDFilter(field_name="batch_id")
    created_after = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    def is_valid(self) -> bool:
        # An empty value is not a value of any filter (the schema says so): a 400, not ignored.
        valid = super().is_valid()
        for name in self.filters:
            if name in self.data and not any(self.data.getlist(name)):
                self.form.add_error(name, "must not be empty")
                valid = False
        return valid

    class Meta:
        model = Job
        fields = ["state", "kind", "project", "record", "batch", "created_after", "created_before"]
