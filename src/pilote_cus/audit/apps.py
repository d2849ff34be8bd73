from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "pilote_cus.audit"
    label = "audit"
    verbose_name = "Journal des modifications"
