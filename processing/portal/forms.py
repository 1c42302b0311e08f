from django import forms

from processing.jobs.kinds import PROCESSORS
from processing.jobs.states import JobState
from processing.portal.kind_options import ai_operations


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=200, label="Project name")


class UploadForm(forms.Form):
    image = forms.FileField()


class StartForm(forms.Form):
    kind = forms.ChoiceField(choices=[])
    records = forms.TypedMultipleChoiceField(coerce=int, choices=[], required=False)
    all_records = forms.BooleanField(required=False)
    priority = forms.ChoiceField(
        choices=[("", "default"), ("low", "low"), ("normal", "normal"), ("high", "high")], required=False
    )

    def __init__(self, *args, record_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            *((kind, kind) for kind, p in sorted(PROCESSORS.items()) if "record" in p.inputs),
            *ai_operations(),
        ]
        self.fields["records"].choices = [(pk, pk) for pk in record_ids]

    def clean(self):
        data = super().clean()
        if not data.get("all_records") and not data.get("records"):
            raise forms.ValidationError("Select at least one photo.")
        return data


class DeleteForm(forms.Form):
    """Photos of one project to delete: the ids must be among its records."""

    records = forms.TypedMultipleChoiceField(coerce=int, choices=[])

    def __init__(self, *args, record_ids: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["records"].choices = [(pk, pk) for pk in record_ids]
        self.fields["records"].error_messages["required"] = "Select at least one photo."


class JobFilterForm(forms.Form):
    state = forms.ChoiceField(choices=[("", "any state"), *JobState.choices], required=False)
    kind = forms.ChoiceField(choices=[], required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "any kind"), *((kind, kind) for kind in sorted(PROCESSORS))]
