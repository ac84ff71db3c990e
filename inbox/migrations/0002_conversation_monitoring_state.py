from django.db import migrations, models

# Existing conversations get the state monitoring would have kept: the open period's start and the
# latest human reply (out, not an auto-reply, not pending or failed). Plain SQL that SQLite runs too.
BACKFILL = """
UPDATE inbox_conversation SET
    open_period_since = (
        SELECT p.started_at FROM monitoring_waitingperiod p
        WHERE p.conversation_id = inbox_conversation.id AND p.ended_at IS NULL
    ),
    measured_reply_at = (
        SELECT max(m.sent_at) FROM inbox_message m
        WHERE m.conversation_id = inbox_conversation.id AND m.direction = 'out' AND m.source <> 'auto'
            AND m.status NOT IN ('pending', 'failed')
    )
"""


class Migration(migrations.Migration):
    dependencies = [
        ("inbox", "0001_initial"),
        ("monitoring", "0002_rollups"),
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
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
    ]
