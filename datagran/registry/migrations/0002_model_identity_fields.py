import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    """A trained model's identity becomes its (pipeline, node id): the fields first."""

    dependencies = [
        ("pipelines", "0002_webhook_token"),
        ("registry", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="registeredmodel",
            name="pipeline",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="registered_models", to="pipelines.pipeline"),
        ),
        migrations.AddField(
            model_name="registeredmodel",
            name="node_id",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
    ]
