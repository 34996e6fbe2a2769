from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0004_one_model_per_pipeline_node"),
    ]

    operations = [
        migrations.AddField(
            model_name="modelversion",
            name="evaluation",
            field=models.JSONField(default=dict),
        ),
    ]
