from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "datagran.core"

    def ready(self) -> None:
        from operators.registry import check_plugin_modules

        from . import checks  # noqa: F401  (registers the system checks)
        from .limits import install_text_limits
        from .logredact import install_access_log_redaction

        check_plugin_modules()  # a plugin that cannot be found fails every process's start
        install_access_log_redaction()
        install_text_limits()  # text columns keep their max_length on every database
