from django.apps import AppConfig

from leads import checks  # noqa: F401 - registers salesbot's system checks (no models in it)


class LeadsConfig(AppConfig):
    name = "leads"
    verbose_name = "Leads"
    default_auto_field = "django.db.models.BigAutoField"
