from django.apps import AppConfig


class ServingConfig(AppConfig):
    name = "datagran.serving"
