"""Live events (server-sent events): how streams re-read, beat and end."""

from config.env import env

# --- Live events (GET /api/v1/events/): a stream re-reads its job or batch this often even
# without a change notice, and sends a comment line after this long without an event. Every
# change publishes a notice, so the re-read is only a safety net: kept rare, it costs little
# with many streams open (100 streams at 2 s were 50 reads a second).
EVENTS_REREAD_S = env.float("EVENTS_REREAD_S", default=10.0)
EVENTS_HEARTBEAT_S = env.float("EVENTS_HEARTBEAT_S", default=15.0)
# A vendor's open event streams at once (429 beyond), and a stream's longest life (then it
# closes and the client reconnects).
EVENTS_MAX_STREAMS_PER_VENDOR = env.int("EVENTS_MAX_STREAMS_PER_VENDOR", default=50)
EVENTS_MAX_STREAM_S = env.float("EVENTS_MAX_STREAM_S", default=3600)
