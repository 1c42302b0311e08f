"""Request bodies: how large, before and while they are parsed."""

from config.env import env
from config.settings.topics.images import IMAGE_MAX_BYTES

DATA_UPLOAD_MAX_MEMORY_SIZE = IMAGE_MAX_BYTES + 1024 * 1024
# The largest request body accepted at all (config/asgi.py refuses more with 413 before Django
# reads it): a few uploads' worth. Larger bulks go by record ids or image URLs.
REQUEST_MAX_BYTES = env.int("REQUEST_MAX_BYTES", default=4 * IMAGE_MAX_BYTES + 1024 * 1024)
# A JSON body (API) is bounded far lower, before it is parsed: over JSON_BODY_MAX_BYTES is a 413
# (before Django reads it, under ASGI), more than JSON_MAX_ITEMS values or containers or nesting
# deeper than JSON_MAX_DEPTH a 400 (processing/api/parsers.py). 2 MiB holds the largest legitimate
# body, a bulk of BULK_MAX_ITEMS (1,000) URLs of 2,000 characters each with 16 KB of params.
JSON_BODY_MAX_BYTES = env.int("JSON_BODY_MAX_BYTES", default=2 * 1024 * 1024)
JSON_MAX_ITEMS = env.int("JSON_MAX_ITEMS", default=50_000)
JSON_MAX_DEPTH = env.int("JSON_MAX_DEPTH", default=32)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
