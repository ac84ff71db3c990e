from django.db import migrations


class Migration(migrations.Migration):
    """Monitoring's state of a conversation lives in monitoring's own table now (monitoring.0003)."""

    dependencies = [
        ("inbox", "0002_conversation_monitoring_state"),
    ]

    operations = [
        migrations.RemoveField(model_name="conversation", name="measured_reply_at"),
        migrations.RemoveField(model_name="conversation", name="open_period_since"),
    ]
