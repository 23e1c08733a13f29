"""Where tests find the original datasets: ``../shared/data`` beside the checkout (as in CI),
or ``TUTOR_SHARED_DATA``. Users' machines do not have them; tests that need them skip."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("TUTOR_SHARED_DATA", REPO.parent / "shared" / "data"))
