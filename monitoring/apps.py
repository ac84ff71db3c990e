from django.apps import AppConfig


class MonitoringConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "monitoring"
    verbose_name = "Monitoring"

    def ready(self) -> None:
        # Monitoring builds on inbox and inbox knows nothing of it: every tie is made here, from this
        # side (docs/architecture.md, "The boundary").
        from inbox.api.extensions import message_fields_register
        from inbox.hooks import messages_stored_subscribe, statement_part_register
        from monitoring import events  # noqa: F401 - declares the alert.* live event types
        from monitoring.api.message_fields import MEASUREMENT_FIELDS
        from monitoring.receivers import messages_stored
        from monitoring.services.waiting import in_order_part

        messages_stored_subscribe(messages_stored)
        statement_part_register(in_order_part())
        message_fields_register(MEASUREMENT_FIELDS)
