"""Tutoring dialogue, hints and recommendations (built in later issues)."""
