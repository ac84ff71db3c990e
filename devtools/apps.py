from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """Dev-only: the demo seed, the customer simulator and the fake platform send APIs.

    Installed by the local and test settings only; production neither installs nor needs it.
    """

    name = "devtools"
    verbose_name = "Developer tools"
