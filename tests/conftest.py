"""Shared pytest configuration."""

import os

from hypothesis import HealthCheck, settings

# The default profile (CI) draws the same examples on every run, so that a clean checkout
# passes or fails reproducibly; the "thorough" profile explores with fresh random examples.
settings.register_profile(
    "default", deadline=None, max_examples=40, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "thorough", deadline=None, max_examples=500, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
