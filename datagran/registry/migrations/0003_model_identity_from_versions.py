"""Existing models get their (pipeline, node id) from their versions.

A model was found by its display name, so one model could hold the versions of several
model nodes (two pipelines whose nodes had the same label, or a pipeline renamed and
trained again under a new name). The node of the newest version keeps the model, with its
name and aliases; each other node's versions move to a model of their own (named
"<pipeline> / <node>", made unique), with the aliases that point at them. A node already
claimed by a model trained more recently leaves its versions where they are. Imported
versions and those of deleted pipelines stay with the model they are in."""
from django.db import migrations


def unique_name(RegisteredModel, workspace_id, wanted):
    name, n = wanted[:200], 2
    while RegisteredModel.objects.filter(workspace_id=workspace_id, name=name).exists():
        suffix = f" ({n})"
        name, n = wanted[:200 - len(suffix)] + suffix, n + 1
    return name


def forwards(apps, schema_editor):
    RegisteredModel = apps.get_model("registry", "RegisteredModel")
    ModelVersion = apps.get_model("registry", "ModelVersion")
    ModelAlias = apps.get_model("registry", "ModelAlias")
    Pipeline = apps.get_model("pipelines", "Pipeline")
    claimed = set()
    trained = ModelVersion.objects.filter(source="pipeline", pipeline__isnull=False)
    # The model trained most recently claims its node first.
    models = sorted(RegisteredModel.objects.all(), key=lambda m: max(
        [v.created_at for v in ModelVersion.objects.filter(registered_model=m)]
        or [m.created_at]), reverse=True)
    for model in models:
        nodes = []  # (pipeline id, node id), newest version first
        for version in trained.filter(registered_model=model).order_by("-version"):
            pair = (version.pipeline_id, version.node_id)
            if pair not in nodes:
                nodes.append(pair)
        for index, pair in enumerate(nodes):
            if pair in claimed:
                continue
            claimed.add(pair)
            if index == 0:
                model.pipeline_id, model.node_id = pair
                model.save(update_fields=["pipeline", "node_id"])
                continue
            pipeline = Pipeline.objects.get(pk=pair[0])
            own = RegisteredModel.objects.create(
                workspace_id=model.workspace_id, pipeline_id=pair[0], node_id=pair[1],
                name=unique_name(RegisteredModel, model.workspace_id,
                                 f"{pipeline.name} / {pair[1]}"))
            moved = trained.filter(registered_model=model, pipeline_id=pair[0],
                                   node_id=pair[1])
            ModelAlias.objects.filter(registered_model=model, version__in=moved).update(
                registered_model=own)
            moved.update(registered_model=own)


class Migration(migrations.Migration):

    dependencies = [
        ("registry", "0002_model_identity_fields"),
    ]

    operations = [
        migrations.RunPython(forwards, migrations.RunPython.noop),
    ]
