"""Job states and the transitions allowed between them: the one place that says so."""

from django.db import models

from processing.lib.errors import DarkroomError


class JobState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


TRANSITIONS: dict[str, frozenset[str]] = {
    # A queued job may fail without running: its input vanished, its vendor was removed.
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLED, JobState.FAILED}),
    # Back to queued: a retryable failure, or a stalled worker's job taken back.
    JobState.RUNNING: frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.QUEUED, JobState.CANCELLED}),
    JobState.SUCCEEDED: frozenset(),
    # An operator or integrator may run a failed or cancelled job again.
    JobState.FAILED: frozenset({JobState.QUEUED}),
    JobState.CANCELLED: frozenset({JobState.QUEUED}),
}

FINISHED = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
ACTIVE = frozenset({JobState.QUEUED, JobState.RUNNING})


def sources_of(target: str) -> frozenset[str]:
    """Every state from which `target` may be reached."""
    return frozenset(state for state, targets in TRANSITIONS.items() if target in targets)


class InvalidTransition(DarkroomError):
    """The job's state does not allow the change asked for."""

    code = "invalid_state"
    status = 409

    def __init__(self, current: str, target: str):
        super().__init__(f"a {current} job cannot become {target}")
        self.current = current
        self.target = target
