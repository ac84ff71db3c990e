from django.db import migrations, models

# These two columns held monitoring's state on the conversation for a while; 0003 drops them again
# (monitoring keeps that state in its own table, monitoring.0003). The backfill this migration once ran
# from monitoring's tables is gone with them: monitoring.0003 computes the state from its own rows.


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="conversation",
            name="measured_reply_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddField(
            model_name="conversation",
            name="open_period_since",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
    ]
