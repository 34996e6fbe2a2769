from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0003_model_identity_from_versions"),
    ]

    operations = [
        migrations.AddConstraint(
            model_name="registeredmodel",
            constraint=models.UniqueConstraint(condition=models.Q(("pipeline__isnull", False)),
                                               fields=("pipeline", "node_id"),
                                               name="one_model_per_pipeline_node"),
        ),
    ]
