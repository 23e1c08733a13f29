from .base import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MODEL_DIR = BASE_DIR / "var" / "test-models"  # noqa: F405
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
