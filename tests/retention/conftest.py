"""Retention fixtures: the reward tests' staff of 区住房和城乡建设局 and around it."""
from tests.rewards.conftest import people  # noqa: F401  (the same fixture, reused)
