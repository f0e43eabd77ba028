"""Real file systems for the write-path tests: a tiny tmpfs that fills up, and a read-only mount.
Import the fixtures into a conftest or a test module: ``from tests.mounts import small_disk``.

As root, permission bits do not stop a write; only a read-only mount does. Mounting needs root (or
CAP_SYS_ADMIN); where it is not allowed the tests that need it are skipped, saying why.
"""
import subprocess

import pytest


def _mount(target, options):
    target.mkdir(exist_ok=True)
    try:
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(target)], capture_output=True,
                           text=True)
        failure = p.stderr.strip() or "not root" if p.returncode else None
    except OSError as e:
        failure = str(e)
    if failure:
        pytest.skip(f"cannot mount a tmpfs here ({failure}): the fault-injection tests in tests/core/test_fileio.py "
                    "cover the same steps")
    return target


@pytest.fixture
def small_disk(tmp_path):
    """A real 64 KiB file system that fills up."""
    disk = _mount(tmp_path / "disk", "size=64k")
    yield disk
    subprocess.run(["umount", "-l", str(disk)], check=False)


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a read-only mount holding one file: root's permission bits would not stop a write, this does."""
    folder = _mount(tmp_path / "ro", "size=64k")
    (folder / "keep.txt").write_bytes(b"precious")
    subprocess.run(["mount", "-o", "remount,ro", str(folder)], check=True)
    yield folder
    subprocess.run(["umount", "-l", str(folder)], check=False)
