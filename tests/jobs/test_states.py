from processing.jobs.states import FINISHED, TRANSITIONS, JobState, sources_of


def test_every_state_has_its_transitions_declared():
    assert set(TRANSITIONS) == set(JobState.values)


def test_a_succeeded_job_never_changes_again():
    assert TRANSITIONS[JobState.SUCCEEDED] == frozenset()
    assert JobState.SUCCEEDED not in sources_of(JobState.QUEUED)


def test_only_unfinished_jobs_can_be_cancelled():
    assert sources_of(JobState.CANCELLED) == {JobState.QUEUED, JobState.RUNNING}
    assert not (sources_of(JobState.CANCELLED) & FINISHED)
