from .base import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MODEL_DIR = BASE_DIR / "var" / "test-models"  # noqa: F405
LOGGING["root"]["level"] = LOGGING["loggers"]["django"]["level"] = "WARNING"  # noqa: F405
# Knowledge tracing: tests that load the demo history stay on BKT (seconds); a test opts in to the Transformer.
TUTOR_MASTERY = {"tracer": {"transformer_min_interactions": 1_000_000}}
