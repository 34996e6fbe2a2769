from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "datagran.registry"
