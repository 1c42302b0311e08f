"""The database: MySQL (MariaDB) of record, SQLite only for the quick start."""

from config.env import BASE_DIR, env

# --- Database: MySQL is the database of record; SQLite only for the quick start.


def pooled_for_asgi(database: dict) -> None:
    """Under ASGI, Django runs each request's sync code in a thread of its own (asgiref's
    ThreadSensitiveContext per request), so a persistent connection is never used twice: every
    request opened one, and CONN_MAX_AGE left it open. A web process instead borrows from a pool
    its threads share (SQLAlchemy's QueuePool, checked with a ping) and gives the connection back
    at the end of each request. Workers keep their threads, so CONN_MAX_AGE serves them."""
    if database["ENGINE"] != "django.db.backends.mysql" or not env.bool("DARKROOM_ASGI", default=False):
        return
    database.update(
        ENGINE="dj_db_conn_pool.backends.mysql",
        CONN_MAX_AGE=0,
        POOL_OPTIONS={
            "POOL_SIZE": env.int("DATABASE_POOL_SIZE", default=10),
            "MAX_OVERFLOW": env.int("DATABASE_POOL_OVERFLOW", default=5),
            "TIMEOUT": env.int("DATABASE_POOL_TIMEOUT_S", default=20),
            "RECYCLE": 600,
            "PRE_PING": True,
        },
    )


DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.mysql":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"charset": "utf8mb4", "init_command": "SET sql_mode='STRICT_TRANS_TABLES'"}
    )
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    pooled_for_asgi(DATABASES["default"])
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Web and worker write concurrently: wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 30, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
