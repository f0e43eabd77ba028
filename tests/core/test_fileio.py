"""The one write path: checks before writing, faults at every step, a real full disk, read-only mounts,
symlinks, stale temporary files, and a file that grows as records complete."""
import errno
import json
import os
import stat
import subprocess
import sys
import time

import pytest

from core.io import fileio
from core.io.fileio import HOST, TEMP_PREFIX, AppendingFile, check_target, clean_stale_temps, write_atomically, write_with

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OLD = b"old contents " * 800  # 10 KB, like a good PNG
PNG = b"\x89PNG\r\n\x1a\n" + b"pixels" * 2000 + b"\0\0\0\0IEND\xaeB`\x82"  # ends as a PNG must


def listing(folder):
    return sorted(os.listdir(folder))


@pytest.fixture
def old_file(tmp_path):
    path = tmp_path / "keep.png"
    path.write_bytes(OLD)
    return path


# -- checks before anything is written -----------------------------------------------------

@pytest.mark.parametrize("make,expected", [
    (lambda t: "", "the file name is empty"),
    (lambda t: str(t), "it is a folder"),
    (lambda t: str(t / "missing" / "x.json"), "does not exist"),
    (lambda t: "/dev/null", "not a regular file"),
    (lambda t: "/proc/x.json", "cannot create a file in '/proc'"),
    (lambda t: str(t / ("n" * 300)), "File name too long"),
])
def test_targets_that_cannot_be_written_are_refused_naming_them(tmp_path, make, expected):
    path = make(tmp_path)
    with pytest.raises(OSError) as info:
        check_target(path)
    assert info.value.filename == path and expected in info.value.strerror
    with pytest.raises(OSError):
        write_atomically(path, "x")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)  # never replaced by a regular file


def test_a_read_only_file_is_refused_even_for_root(old_file):
    os.chmod(old_file, 0o444)
    with pytest.raises(OSError, match="read-only") as info:
        write_atomically(str(old_file), "new")
    assert info.value.filename == str(old_file) and old_file.read_bytes() == OLD


def test_a_read_only_mount_is_refused_before_writing(read_only_folder):
    for name in ("keep.txt", "new.txt"):
        path = str(read_only_folder / name)
        with pytest.raises(OSError) as info:
            check_target(path)
        assert info.value.errno == errno.EROFS and info.value.filename == path
    with pytest.raises(OSError):
        AppendingFile(str(read_only_folder / "keep.txt"))
    assert (read_only_folder / "keep.txt").read_bytes() == b"precious"
    assert listing(read_only_folder) == ["keep.txt"]


def test_a_symlink_is_written_through_to_its_target(tmp_path, old_file):
    link = tmp_path / "link.png"
    link.symlink_to(old_file.name)
    write_atomically(str(link), b"new")
    assert link.is_symlink() and os.readlink(link) == old_file.name
    assert old_file.read_bytes() == b"new"
    dangling = tmp_path / "dangling.json"
    dangling.symlink_to("made.json")
    write_atomically(str(dangling), "made")
    assert dangling.is_symlink() and (tmp_path / "made.json").read_text() == "made"


def test_mode_is_kept_and_new_files_follow_the_umask(tmp_path, old_file):
    os.chmod(old_file, 0o640)
    write_atomically(str(old_file), "new")
    assert stat.S_IMODE(old_file.stat().st_mode) == 0o640
    mask = os.umask(0o022)
    try:
        write_atomically(str(tmp_path / "fresh.txt"), "x")
    finally:
        os.umask(mask)
    assert stat.S_IMODE((tmp_path / "fresh.txt").stat().st_mode) == 0o644


# -- a file system that fails at each step ------------------------------------------------

class FailingFileSystem:
    """Fails one os call (``step``) when it touches one of our temporary files; every other call is real."""

    def __init__(self, monkeypatch, step, failure=errno.EIO):
        self.temp_fds = set()
        self.step, self.failure, self.calls = step, failure, 0
        real = {name: getattr(os, name) for name in ("open", "write", "fsync", "close", "replace", "chmod")}
        self.real = real

        def fail(*args):
            self.calls += 1
            raise OSError(self.failure, os.strerror(self.failure))

        def is_temp(path):
            return TEMP_PREFIX in os.fspath(path)

        def open_(path, flags, mode=0o777, **kw):
            if step == "open" and is_temp(path):
                fail()
            fd = real["open"](path, flags, mode, **kw)
            if is_temp(path):
                self.temp_fds.add(fd)
            return fd

        def on_fd(name):
            def call(fd, *args):
                if step == name and fd in self.temp_fds:
                    fail()
                if name == "close":
                    self.temp_fds.discard(fd)
                return real[name](fd, *args)
            return call

        def on_path(name):
            def call(path, *args, **kw):
                if step == name and is_temp(path):
                    fail()
                return real[name](path, *args, **kw)
            return call
        monkeypatch.setattr(os, "open", open_)
        for name in ("write", "fsync", "close"):
            monkeypatch.setattr(os, name, on_fd(name))
        for name in ("replace", "chmod"):
            monkeypatch.setattr(os, name, on_path(name))


STEPS = ["open", "write", "fsync", "close", "chmod", "replace"]


# A writer callback writes with its own file object, not os.write: its failures are tested below.
@pytest.mark.parametrize("how,step", [("data", s) for s in STEPS] + [("callback", s) for s in STEPS if s != "write"])
def test_a_failure_at_any_step_keeps_the_old_file_and_removes_the_temp(monkeypatch, tmp_path, old_file, step, how):
    fs = FailingFileSystem(monkeypatch, step)
    with pytest.raises(OSError) as info:
        if how == "data":
            write_atomically(str(old_file), b"new" * 10000)
        else:
            write_with(str(old_file), lambda tmp: open(tmp, "wb").write(PNG) and None)
    assert fs.calls >= 1, f"the {step} fault was never reached"
    assert info.value.filename == str(old_file) and TEMP_PREFIX not in str(info.value)
    assert old_file.read_bytes() == OLD
    assert listing(tmp_path) == ["keep.png"]


@pytest.mark.parametrize("failure", [errno.EPERM, errno.ENOTSUP])
def test_a_file_system_without_modes_is_still_written(monkeypatch, old_file, failure):
    FailingFileSystem(monkeypatch, "chmod", failure)  # vfat refuses chmod with EPERM
    write_atomically(str(old_file), "new")
    assert old_file.read_bytes() == b"new"


def test_short_writes_are_completed_and_a_write_that_makes_no_progress_fails(monkeypatch, tmp_path, old_file):
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:7])))
    write_atomically(str(old_file), b"0123456789" * 100)
    assert old_file.read_bytes() == b"0123456789" * 100
    monkeypatch.setattr(os, "write", lambda fd, data: 0)
    with pytest.raises(OSError, match="no progress"):
        write_atomically(str(old_file), b"lost")
    assert old_file.read_bytes() == b"0123456789" * 100 and listing(tmp_path) == ["keep.png"]


@pytest.mark.parametrize("writer,expected", [
    (lambda tmp: False, "reported a failure"),                                   # QImage.save on a full disk
    (lambda tmp: open(tmp, "wb").write(b"partial") and False, "reported a failure"),
    (lambda tmp: None, "wrote nothing"),                                        # an exporter that did nothing
    (lambda tmp: os.unlink(tmp), "wrote nothing"),
    (lambda tmp: 1 / 0, "the writer failed: division by zero"),
])
def test_an_exporter_that_fails_without_raising_is_a_failure(tmp_path, old_file, writer, expected):
    with pytest.raises(OSError, match=expected) as info:
        write_with(str(old_file), writer)
    assert info.value.filename == str(old_file)
    assert old_file.read_bytes() == OLD and listing(tmp_path) == ["keep.png"]


def test_an_exporter_gets_a_temp_name_with_the_extension_and_may_replace_it(tmp_path, old_file):
    seen = []

    def exporter(tmp):  # writes its own file and renames it over the name it was given, as some writers do
        seen.append(tmp)
        with open(tmp + ".part", "wb") as fh:
            fh.write(PNG)
        os.rename(tmp + ".part", tmp)
        return True
    write_with(str(old_file), exporter)
    assert seen[0].endswith(".png") and os.path.dirname(seen[0]) == str(tmp_path)
    assert old_file.read_bytes() == PNG and listing(tmp_path) == ["keep.png"]


@pytest.mark.parametrize("name,data,complete", [
    ("a.png", PNG, True), ("a.png", PNG[:8192], False), ("a.PNG", PNG + b"\n", True),
    ("a.svg", b"<svg>\n<path d='M0,0 L1,1'/>\n</svg>\n", True), ("a.svg", b"<svg>\n<path d='M0,0 L", False),
    ("a.txt", b"anything", True),
])
def test_a_png_or_svg_cut_short_is_a_failure_even_when_the_writer_says_it_succeeded(tmp_path, name, data, complete):
    path = tmp_path / name
    path.write_bytes(b"old")
    written = lambda tmp: open(tmp, "wb").write(data) > 0  # noqa: E731 - says True, as Qt's writers do
    if complete:
        write_with(str(path), written)
        assert path.read_bytes() == data
    else:
        with pytest.raises(OSError, match="incomplete"):
            write_with(str(path), written)
        assert path.read_bytes() == b"old" and listing(tmp_path) == [name]


# -- a real full disk ---------------------------------------------------------------------

def test_a_full_disk_keeps_the_old_file(small_disk):
    path = small_disk / "plot.png"
    path.write_bytes(OLD)
    with pytest.raises(OSError) as info:
        write_atomically(str(path), b"x" * 200_000)
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    with pytest.raises(OSError) as info:  # an exporter writing by name, which raises
        write_with(str(path), lambda tmp: open(tmp, "wb").write(b"x" * 200_000))
    assert info.value.errno == errno.ENOSPC

    def qt_like(tmp):  # writes what fits and reports failure, as QImage.save does
        try:
            with open(tmp, "wb") as fh:
                fh.write(b"x" * 200_000)
        except OSError:
            return False
        return True
    with pytest.raises(OSError, match="reported a failure"):
        write_with(str(path), qt_like)
    assert path.read_bytes() == OLD and listing(small_disk) == ["plot.png"]
    write_atomically(str(path), b"small")  # the disk still works
    assert path.read_bytes() == b"small"


def test_a_growing_file_on_a_full_disk_keeps_whole_records(small_disk):
    path = small_disk / "run.jsonl"
    record = '{"epoch": %d, "pad": "' + "p" * 1000 + '"}\n'
    out = AppendingFile(str(path))
    with pytest.raises(OSError) as info:
        for i in range(1000):
            out.append(record % (i + 1))
    out.abort()
    assert info.value.errno == errno.ENOSPC and info.value.filename == str(path)
    lines = path.read_text().splitlines()
    assert len(lines) == out.records > 10 and all(line == (record % (i + 1)).strip() for i, line in enumerate(lines))
    assert listing(small_disk) == ["run.jsonl"]


# -- a file that grows as records complete ---------------------------------------------------

def test_the_old_file_stays_until_the_first_record_then_records_are_readable_as_written(tmp_path, old_file):
    out = AppendingFile(str(old_file))
    assert old_file.read_bytes() == OLD and not out.installed
    out.append("one\n")
    assert old_file.read_bytes() == b"one\n" and out.installed
    out.append("two\n")
    assert old_file.read_bytes() == b"one\ntwo\n"  # readable before close: a killed process leaves it
    out.close()
    assert listing(tmp_path) == ["keep.png"]


def test_stopping_before_the_first_record_leaves_the_old_file_and_no_temp(tmp_path, old_file):
    with pytest.raises(KeyboardInterrupt):
        with AppendingFile(str(old_file)):
            raise KeyboardInterrupt
    assert old_file.read_bytes() == OLD and listing(tmp_path) == ["keep.png"]


def test_a_failed_append_is_cut_back_to_the_last_whole_record(monkeypatch, tmp_path, old_file):
    out = AppendingFile(str(old_file))
    out.append("one\n")
    real_write = os.write
    calls = []

    def half_then_fail(fd, data):
        calls.append(fd)
        if len(calls) == 1:
            return real_write(fd, bytes(data[:3]))
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "write", half_then_fail)
    with pytest.raises(OSError, match="No space left") as info:
        out.append("two two two\n")
    assert info.value.filename == str(old_file)
    monkeypatch.setattr(os, "write", real_write)
    out.append("three\n")
    out.close()
    assert old_file.read_bytes() == b"one\nthree\n" and out.records == 2


# -- temporary files of a dead process ----------------------------------------------------------

def test_stale_temps_of_dead_processes_are_removed_on_the_next_write(tmp_path, old_file):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    stale = [f"{TEMP_PREFIX}{HOST}-{dead_pid}-0123abcd.png", f"{TEMP_PREFIX}{HOST}-{dead_pid}-deadbeef"]
    live = f"{TEMP_PREFIX}{HOST}-{os.getppid()}-0123abcd.png"  # a live process: maybe writing right now
    other_host = f"{TEMP_PREFIX}{'0' * 8 if HOST != '0' * 8 else '1' * 8}-{dead_pid}-0123abcd.png"  # pid not ours
    kept = [live, other_host, ".tmp-someone-else", "notes.txt"]
    for name in stale + kept:
        (tmp_path / name).write_text("x")
    write_atomically(str(old_file), "new")
    assert listing(tmp_path) == sorted(kept + ["keep.png"])
    assert clean_stale_temps(str(tmp_path)) == []


def _child(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", f"import sys; sys.path.insert(0, {ROOT!r})\n" + code],
                            stdout=subprocess.PIPE, text=True)


def test_kill_9_mid_run_leaves_every_completed_record(tmp_path):
    """A child appends 3 KB records as fast as it can and is killed with SIGKILL. Every record it completed is
    readable; only the one being written at that instant may be cut short (for a fatal signal the kernel stops
    a write at a page boundary), as a line without its newline."""
    path = tmp_path / "run.jsonl"
    record = '{"epoch": %d, "pad": "' + "p" * 3000 + '"}\n'
    child = _child(f"from core.io.fileio import AppendingFile\nout = AppendingFile({str(path)!r})\n"
                   f"i = 0\nwhile True:\n    i += 1\n    out.append({record!r} % i)\n")
    try:
        deadline = time.monotonic() + 30
        while not (path.exists() and path.stat().st_size > 300_000):
            assert child.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
    finally:
        child.kill()
        child.wait()
    *complete, tail = path.read_text().split("\n")
    assert len(complete) > 50
    assert [json.loads(line)["epoch"] for line in complete] == list(range(1, len(complete) + 1))
    assert (record % (len(complete) + 1)).startswith(tail)  # "" or the start of the next record
    assert listing(tmp_path) == ["run.jsonl"]


def test_a_temp_left_by_kill_9_is_removed_by_the_next_write(tmp_path, old_file):
    child = _child(f"from core.io.fileio import AppendingFile\nout = AppendingFile({str(old_file)!r})\n"
                   "print('ready', flush=True)\nimport time; time.sleep(60)\n")
    assert child.stdout.readline() == "ready\n"
    child.kill()
    child.wait()
    left = [n for n in listing(tmp_path) if n.startswith(TEMP_PREFIX)]
    assert len(left) == 1 and old_file.read_bytes() == OLD  # killed before its first record: old file intact
    write_atomically(str(tmp_path / "other.txt"), "x")  # any write to the folder
    assert listing(tmp_path) == ["keep.png", "other.txt"]


def test_long_values_in_messages_are_shortened():
    text = fileio.shorten("x" * 100_000)
    assert len(text) < 200 and "100000 characters" in text


def test_an_interrupt_right_after_the_rename_keeps_the_installed_record(monkeypatch, tmp_path, old_file):
    def interrupted(folder):
        raise KeyboardInterrupt
    monkeypatch.setattr(fileio, "_fsync_folder", interrupted)  # runs just after os.replace
    out = AppendingFile(str(old_file))
    with pytest.raises(KeyboardInterrupt):
        out.append("one\n")
    out.abort()
    assert out.records == 1 and old_file.read_bytes() == b"one\n" and listing(tmp_path) == ["keep.png"]
