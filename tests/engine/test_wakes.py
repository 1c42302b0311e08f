"""The worker's own wake-ups: jobs that finished here are admitted together (one pass for half the
slots the threads leave), a wake-up from outside at once; idle consumers end their polling sleep
when admission says it sent messages. Timings here are bounds far from the cases they tell apart."""

import threading
import time

import dramatiq.brokers.redis as redis_broker

from processing.engine import consumer_wake
from processing.engine.maintenance import GATHER_MAX_S, Wakes


def waited(wakes: Wakes, timeout: float) -> tuple[float, tuple[bool, set[str]]]:
    started = time.monotonic()
    got = wakes.wait(timeout)
    return time.monotonic() - started, got


def test_ends_of_jobs_are_gathered_until_half_the_free_slots(settings):
    settings.JOB_QUEUE_CAPACITY = {"transform": 8}
    wakes = Wakes(threads=2)  # (8 - 2) // 2 = 3 ends make a pass due
    for _ in range(3):
        wakes.finished("transform")
    seconds, (outside, kinds) = waited(wakes, timeout=5)
    assert (outside, kinds) == (False, {"transform"}) and seconds < 1


def test_fewer_ends_wait_at_most_the_gathering_time(settings):
    settings.JOB_QUEUE_CAPACITY = {"transform": 8}
    wakes = Wakes(threads=2)
    wakes.finished("transform")
    seconds, (outside, kinds) = waited(wakes, timeout=5)
    assert kinds == {"transform"} and not outside
    assert GATHER_MAX_S * 0.5 <= seconds < 2  # not at once, nor the tick's 5 s


def test_a_kind_whose_threads_use_every_slot_is_admitted_at_each_end(settings):
    settings.JOB_QUEUE_CAPACITY = {"remove_bg": 3}
    wakes = Wakes(threads=3)
    wakes.finished("remove_bg")
    seconds, (_, kinds) = waited(wakes, timeout=5)
    assert kinds == {"remove_bg"} and seconds < GATHER_MAX_S


def test_a_wake_up_from_outside_is_served_at_once_and_nothing_else_is_pending():
    wakes = Wakes(threads=2)
    threading.Timer(0.05, wakes.outside).start()
    seconds, got = waited(wakes, timeout=5)
    assert got == (True, set()) and seconds < 1
    seconds, got = waited(wakes, timeout=0.2)  # served: the next wait is the tick's
    assert got == (False, set()) and seconds >= 0.15


def test_an_idle_consumers_sleep_ends_when_messages_are_sent():
    consumer_wake.install()
    slept = []

    def idle_consumer() -> None:
        started = time.monotonic()
        redis_broker.time.sleep(5)  # what Dramatiq's consumer does when its queue was empty
        slept.append(time.monotonic() - started)

    thread = threading.Thread(target=idle_consumer)
    thread.start()
    time.sleep(0.1)
    consumer_wake.wake()
    thread.join(5)
    assert slept and slept[0] < 2
