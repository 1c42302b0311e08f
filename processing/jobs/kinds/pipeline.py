"""Several kinds chained as one job: each step's output image is the next step's input, e.g.
remove_bg, then transform {"trim": true}, then transform {"width": 1024, "format": "webp"}.

Each step's params are validated by its own processor when the job is created; progress is
reported per step.
"""

from typing import Any

from rest_framework import serializers

from processing.jobs.kinds.base import Limits, Processor, Progress, RetryPolicy
from processing.jobs.kinds.registry import get_processor
from processing.lib.errors import InvalidOptions
from processing.lib.imaging.output import ImageOutput

MAX_STEPS = 10
# Progress the runner leaves to processing (between "reading" at 20 % and "storing" at 80 %).
_START, _SPAN = 20, 60


class StepParams(serializers.Serializer):
    # Exactly a kind's name: " remove_bg" is refused, not read as remove_bg (charges count the
    # cleaned kinds, processing/jobs/charges.py, and nothing is normalised behind their back).
    kind = serializers.CharField(trim_whitespace=False)
    params = serializers.DictField(required=False, default=dict)


class PipelineParams(serializers.Serializer):
    steps = serializers.ListField(child=StepParams(), min_length=1, max_length=MAX_STEPS)

    def validate_steps(self, steps):
        cleaned = []
        for index, step in enumerate(steps):
            try:
                processor = get_processor(step["kind"])
                if not processor.chainable:
                    raise serializers.ValidationError(f"steps[{index}]: a pipeline cannot contain a {step['kind']}")
                params = processor.clean_params(step["params"])
            except InvalidOptions as exc:
                raise serializers.ValidationError(f"steps[{index}] ({step['kind']}): {exc.message}") from None
            cleaned.append({"kind": step["kind"], "params": params})
        return cleaned


def run(data: bytes, params: dict[str, Any], *, limits: Limits, progress: Progress) -> ImageOutput:
    steps = params["steps"]
    output = None
    for index, step in enumerate(steps):
        progress(
            f"step {index + 1}/{len(steps)}",
            _START + _SPAN * index // len(steps),
            f"running {step['kind']}",
        )
        if output is not None:
            if not output.is_image:
                raise InvalidOptions(f"step {index} ({steps[index - 1]['kind']}) gave no image for {step['kind']}")
            data = output.data

        output = get_processor(step["kind"]).run(data, step["params"], limits=limits, progress=_quiet)
    if output is None:  # PipelineParams asks for at least one step
        raise InvalidOptions("a pipeline needs at least one step")
    return output


def _quiet(stage: str, percent: int, message: str = "") -> None:
    """Steps report through the pipeline, not on their own scale."""


PROCESSOR = Processor(
    kind="pipeline",
    queue="pipeline",
    params=PipelineParams,
    run=run,
    retry=RetryPolicy(max_attempts=3),
    chainable=False,
)
