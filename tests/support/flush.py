"""A transactional test ends with Django's flush: every table emptied in one transaction. The
session's shared worker keeps admitting and finishing jobs meanwhile, so MariaDB may choose the
flush as a deadlock victim (seen once in CI: "Database test_darkroom couldn't be flushed", and the
next test met the rows it had left). A victim's transaction is rolled back whole, so the flush is
run again, under the rule the job transitions follow."""

from django.db.backends.mysql.operations import DatabaseOperations

from processing.jobs.services.transitions import retried_on_deadlock


def retry_flushes_chosen_as_deadlock_victims() -> None:
    DatabaseOperations.execute_sql_flush = retried_on_deadlock(DatabaseOperations.execute_sql_flush)
