from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "vendors"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_login_failed
        from django.db.models.signals import post_delete

        from vendors import services, sign_in
        from vendors.models import Record

        post_delete.connect(services.on_record_deleted, sender=Record, dispatch_uid="vendors.record_deleted")
        user_login_failed.connect(sign_in.on_sign_in_failed, dispatch_uid="vendors.sign_in_failed")
