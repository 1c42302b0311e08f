"""The REST API (DRF) and its OpenAPI schema (drf-spectacular)."""

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Authorization: Token <key>` or `Bearer <key>`, checked against stored hashes.
        "processing.api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "processing.api.errors.exception_handler",
    # JSON bounded before it is parsed (JSON_BODY_MAX_BYTES, JSON_MAX_ITEMS, JSON_MAX_DEPTH).
    "DEFAULT_PARSER_CLASSES": [
        "processing.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Darkroom API",
    "DESCRIPTION": "Image-processing jobs for vendors: background removal, face crop, transforms.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Stable names for generated clients: a job's state keeps its name beside the other `state`s.
    "ENUM_NAME_OVERRIDES": {"StateEnum": "processing.jobs.states.JobState"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "processing.api.schema.no_null_characters",
        "processing.api.schema.required_request_bodies",
    ],
}
