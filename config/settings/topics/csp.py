"""Content-Security-Policy (django-csp)."""

from csp.constants import NONCE, NONE, SELF

from config.env import env

# --- Content-Security-Policy (django-csp): scripts only from this origin (an inline one needs the
# request's nonce, `{{ request.csp_nonce }}`); inline styles are allowed (the admin and Swagger
# UI use them). Images from a media origin elsewhere go in CSP_IMG_SRC.
CSP_IMG_SRC = env.list("CSP_IMG_SRC", default=[])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:", "blob:", *CSP_IMG_SRC],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
