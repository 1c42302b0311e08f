from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from processing.model_store import ModelUnavailable, ensure_model


class Command(BaseCommand):
    help = "Put the configured rembg models in REMBG_HOME, verified against rembg's md5."

    def add_arguments(self, parser):
        parser.add_argument("models", nargs="*", help="model names (default: REMBG_MODEL and REMBG_ALLOWED_MODELS)")

    def handle(self, models, **options):
        wanted = models or list(dict.fromkeys([settings.REMBG_MODEL, *settings.REMBG_ALLOWED_MODELS]))
        failed = []
        for model in wanted:
            try:
                done = ensure_model(model, home=settings.REMBG_HOME)
            except ModelUnavailable as exc:
                failed.append(model)
                self.stderr.write(str(exc))
                continue
            self.stdout.write(f"{model}: {done.path} ({done.source})")
        if failed:
            raise CommandError(f"missing models: {', '.join(failed)}")
