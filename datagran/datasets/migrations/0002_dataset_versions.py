"""Datasets get versions: the rows of one name in a workspace are numbered 1, 2, ... in the
order they were uploaded (before, each upload was an entry of its own, even under a name
already used). The rows and their ids stay as they were, so saved pipelines read the same
data."""
from django.db import migrations, models


def number_versions(apps, schema_editor):
    Dataset = apps.get_model("datasets", "Dataset")
    seen: dict[tuple[object, str], int] = {}
    for row in Dataset.objects.order_by("created_at", "id").only("workspace_id", "name"):
        key = (row.workspace_id, row.name)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1:
            Dataset.objects.filter(pk=row.pk).update(version=seen[key])


class Migration(migrations.Migration):

    dependencies = [
        ('datasets', '0001_initial'),
    ]

    operations = [
        migrations.CreateModel(
            name='DatasetProfile',
            fields=[
                ('table_hash', models.CharField(max_length=64, primary_key=True, serialize=False)),
                ('columns', models.JSONField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
            ],
        ),
        migrations.AddField(
            model_name='dataset',
            name='version',
            field=models.PositiveIntegerField(default=1),
        ),
        migrations.RunPython(number_versions, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name='dataset',
            constraint=models.UniqueConstraint(fields=('workspace', 'name', 'version'),
                                               name='one_dataset_version_per_number'),
        ),
    ]
