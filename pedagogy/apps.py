from django.apps import AppConfig


class PedagogyConfig(AppConfig):
    name = "pedagogy"
    verbose_name = "Pedagogy"
