from django.apps import AppConfig


class StudentModelConfig(AppConfig):
    name = "student_model"
    verbose_name = "Student model"
