# Sticky notes and frames on the canvas (issue 20): stored on the pipeline, outside the graph
# and its hash (datagran/pipelines/annotations.py).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('pipelines', '0003_workspace_template'),
    ]

    operations = [
        migrations.AddField(
            model_name='pipeline',
            name='annotations',
            field=models.JSONField(blank=True, default=list),
        ),
    ]
