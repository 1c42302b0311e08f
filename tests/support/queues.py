# On a queue the shared test worker does not consume, for tests that run their own workers.
ISOLATED_QUEUE = "isolated"
