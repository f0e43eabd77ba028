"""Fixtures of the core tests."""
from tests.mounts import read_only_folder, small_disk  # noqa: F401  (fixtures)
