from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from processing.jobs.kinds.remove_bg import allowed_models
from processing.lib.rembg.store import ModelUnavailable, ensure_model, ensure_vitmatte


class Command(BaseCommand):
    help = "Put the configured rembg models (and ViTMatte variants) in REMBG_HOME, verified against rembg's checksums."

    def add_arguments(self, parser):
        parser.add_argument("models", nargs="*", help="model names (default: REMBG_MODEL and REMBG_ALLOWED_MODELS)")
        parser.add_argument(
            "--vitmatte", nargs="*", default=None, help="ViTMatte variants (default: REMBG_VITMATTE_MODELS)"
        )

    def handle(self, models, vitmatte, **options):
        wanted = models or list(dict.fromkeys([settings.REMBG_MODEL, *allowed_models()]))
        variants = settings.REMBG_VITMATTE_MODELS if vitmatte is None else vitmatte
        jobs = [(m, ensure_model) for m in wanted] + [(v, ensure_vitmatte) for v in variants]
        failed = []
        for name, ensure in jobs:
            try:
                done = ensure(name, home=settings.REMBG_HOME)
            except ModelUnavailable as exc:
                failed.append(name)
                self.stderr.write(str(exc))
                continue
            self.stdout.write(f"{done.model}: {done.path} ({done.source})")
        if failed:
            raise CommandError(f"missing models: {', '.join(failed)}")
