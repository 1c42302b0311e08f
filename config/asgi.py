import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.production")
os.environ.setdefault("DARKROOM_ASGI", "true")  # the web process: database connections from a pool
application = get_asgi_application()
