"""Every file the program writes goes through here: one path, every step checked.

    real = check_target(path)            # before any work: refuse what could not be written
    write_atomically(path, text)         # a whole file
    write_with(path, exporter)           # a writer that takes a file name (PNG, SVG, screenshot)
    with AppendingFile(path) as out:     # a file that grows as epochs complete (--out)
        out.append(lines)

The rules:
- The target is checked first: a name, not a folder, not a device or pipe, not a read-only file, in a folder
  that exists and takes a new file (tried by creating one: permission bits say nothing to root, a read-only
  mount does).
- A symlink is written through, as editors and shells do: its target is replaced and the link stays.
- The data goes to a temporary file in the target's folder (so the rename cannot cross file systems); every
  step's result is checked (short writes, an exporter that returns False or writes nothing), the file is
  fsynced, given the old file's mode (and owner, as root), renamed over the target, and the folder fsynced.
- On any failure, or an interrupt, the temporary file is removed, the old file is untouched, and the OSError
  names the path the caller gave, never the temporary file.
- Temporary files are named ``.gradflow-tmp-HOST-PID-XXXXXXXX[.ext]`` (HOST: 8 hex digits of a hash of this
  machine's name, so on a folder shared over the network only this machine's are judged); those left by a
  dead process of this machine (kill -9, a power cut) are removed the next time anything is written to
  their folder.
"""
from __future__ import annotations

import errno
import hashlib
import os
import re
import secrets
import socket
import stat
import time
from typing import Callable

TEMP_PREFIX = ".gradflow-tmp-"
HOST = hashlib.sha1(socket.gethostname().encode("utf-8", "replace")).hexdigest()[:8]
_TEMP_NAME = re.compile(r"\.gradflow-tmp-([0-9a-f]{8})-(\d+)-[0-9a-f]{8}(\.[A-Za-z0-9]{1,8})?\Z")


def shorten(text, limit: int = 160) -> str:
    """``text`` for a message: a very long value keeps its head and tail and says how long it was."""
    text = str(text)
    if len(text) <= limit:
        return text
    half = (limit - 30) // 2
    return f"{text[:half]}...({len(text)} characters)...{text[-half:]}"


def _error(path, code: int, why: str) -> OSError:
    return OSError(code, why, path)


def file_mode(path: str) -> int:
    """The mode a new file at ``path`` should get: the existing file's, else 0o666 less the umask."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        mask = os.umask(0)
        os.umask(mask)
        return 0o666 & ~mask


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def clean_stale_temps(folder: str) -> list[str]:
    """Remove our temporary files in ``folder`` whose process has ended; return their names."""
    removed = []
    try:
        names = os.listdir(folder)
    except OSError:
        return removed
    for name in names:
        m = _TEMP_NAME.match(name)
        if m is None or m.group(1) != HOST or int(m.group(2)) == os.getpid() or _pid_alive(int(m.group(2))):
            continue
        try:
            os.unlink(os.path.join(folder, name))
            removed.append(name)
        except OSError:
            pass
    return removed


def _create_temp(folder: str, ext: str = "") -> tuple[int, str]:
    """A new empty file of ours in ``folder``, open for writing: (fd, path)."""
    for _ in range(100):
        tmp = os.path.join(folder, f"{TEMP_PREFIX}{HOST}-{os.getpid()}-{secrets.token_hex(4)}{ext}")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), tmp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary file name", folder)


def _unlink_quietly(path: str | None) -> None:
    if path is not None:
        try:
            os.unlink(path)
        except OSError:
            pass


def check_target(path: str) -> str:
    """The file that writing ``path`` will replace (a symlink's target), after checking it can be written.

    Raises OSError naming ``path`` when it is empty, a folder, a device or pipe, a read-only file, or in a
    folder that is missing or takes no new file (read-only mount, no permission). Also removes stale
    temporary files of ours from that folder."""
    if not isinstance(path, str) or not path:
        raise _error(path, errno.ENOENT, "the file name is empty")
    if "\0" in path:
        raise _error(path, errno.EINVAL, "the file name contains a NUL character")
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:  # ENAMETOOLONG, ELOOP, ENOTDIR, EACCES
        raise _error(path, e.errno, e.strerror or str(e)) from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise _error(path, errno.EISDIR, "it is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise _error(path, errno.EINVAL, "it is not a regular file (a device, pipe or socket)")
    folder = os.path.dirname(real)
    if not os.path.isdir(folder):
        raise _error(path, errno.ENOENT, f"the folder {shorten(folder)!r} does not exist")
    clean_stale_temps(folder)
    probe = None
    try:  # as root only trying shows a read-only mount or a full inode table
        fd, probe = _create_temp(folder)
        os.close(fd)
    except OSError as e:
        raise _error(path, e.errno, f"{e.strerror or e} (cannot create a file in {shorten(folder)!r})") from None
    finally:
        _unlink_quietly(probe)
    if st is not None and not st.st_mode & 0o222:  # refused even for root, who could replace it
        raise _error(path, errno.EACCES, "the file is read-only")
    if st is not None and not os.access(real, os.W_OK):
        raise _error(path, errno.EACCES, "you do not have permission to write the file")
    return real


def _write_all(fd: int, data: bytes) -> None:
    """os.write until every byte is written; a write that makes no progress is an error."""
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        if n <= 0:
            raise OSError(errno.EIO, "the write made no progress")
        view = view[n:]


def _fsync_folder(folder: str) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as e:
        if e.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):  # file systems without folder fsync
            raise
    finally:
        os.close(fd)


def _install(tmp: str, real: str) -> None:
    """Give ``tmp`` the old file's mode (and owner), rename it over ``real`` and make the rename durable."""
    try:
        os.chmod(tmp, file_mode(real))
    except OSError as e:  # FAT and exFAT (USB sticks) refuse modes they cannot store: the content is what matters
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EINVAL):
            raise
    try:
        old = os.stat(real)
        if os.geteuid() == 0 and (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
            os.chown(tmp, old.st_uid, old.st_gid)
    except (OSError, AttributeError):
        pass
    os.replace(tmp, real)
    _fsync_folder(os.path.dirname(real))


def _extension(real: str) -> str:
    ext = os.path.splitext(real)[1]
    return ext if re.fullmatch(r"\.[A-Za-z0-9]{1,8}", ext) else ""


def _replace(path: str, fill: Callable[[int, str], None]) -> None:
    """Check the target, let ``fill(fd, tmp)`` write the temporary file and close ``fd``, then install it."""
    real = check_target(path)
    tmp = None
    try:
        fd, tmp = _create_temp(os.path.dirname(real), _extension(real))
        fill(fd, tmp)  # closes fd, whatever happens
        _install(tmp, real)
        tmp = None
    except BaseException as e:
        _unlink_quietly(tmp)
        if isinstance(e, OSError):  # name the file the caller asked for, never the temporary one
            raise _error(path, e.errno or errno.EIO, e.strerror or str(e)) from e
        raise


def write_atomically(path: str, data: str | bytes) -> None:
    """Replace ``path`` with ``data`` (str is written as UTF-8), or leave it untouched and raise OSError."""
    payload = data.encode("utf-8") if isinstance(data, str) else bytes(data)

    def fill(fd: int, tmp: str) -> None:
        try:
            _write_all(fd, payload)
            os.fsync(fd)
        finally:
            os.close(fd)
    _replace(path, fill)


def _check_complete(tmp: str) -> None:
    """Qt's PNG and SVG writers report success on a full disk with the file cut short (QImage.save returns True
    with 8 KB of a PNG; QPainter.end() True with part of an SVG): the format table says how each must end."""
    from core.io.formats import ending as format_ending   # here: core.io.formats imports this module
    ending = format_ending(tmp)
    if ending is None:
        return
    with open(tmp, "rb") as fh:
        fh.seek(max(0, os.fstat(fh.fileno()).st_size - 64))
        tail = fh.read().rstrip()
    if not tail.endswith(ending):
        raise OSError(errno.EIO, f"the writer left an incomplete {os.path.splitext(tmp)[1][1:].upper()} file "
                                 "(is the disk full?)")


def write_with(path: str, write: Callable[[str], bool | None]) -> None:
    """Replace ``path`` with what ``write(tmp_path)`` writes to the file named ``tmp_path``.

    For writers that take a file name, such as Qt's ``QImage.save`` or pyqtgraph's exporters: the temporary
    name keeps ``path``'s extension, so a writer that picks its format from it still works. ``write`` fails
    by raising, by returning False (as ``ImageExporter.export`` does on a full disk), by leaving an empty
    file, or, for .png and .svg, a file that does not end as the format must (Qt's writers can report success
    for a file cut short); then ``path`` is untouched and OSError names it. Returning None or True counts as
    success. For example, in the window::

        write_with(path, ImageExporter(plot.getPlotItem()).export)
        write_with(path, lambda tmp: window.grab().save(tmp, "PNG"))
    """
    def fill(fd: int, tmp: str) -> None:
        os.close(fd)  # the writer opens the file itself, maybe by writing a new one in its place
        try:
            ok = write(tmp)
        except OSError:
            raise
        except Exception as e:
            raise OSError(errno.EIO, f"the writer failed: {shorten(e)}") from e
        if ok is False:
            raise OSError(errno.EIO, "the writer reported a failure")
        try:
            check = os.open(tmp, os.O_RDONLY)
        except FileNotFoundError:
            raise OSError(errno.EIO, "the writer wrote nothing") from None
        try:
            if os.fstat(check).st_size == 0:
                raise OSError(errno.EIO, "the writer wrote nothing")
            _check_complete(tmp)
            os.fsync(check)
        finally:
            os.close(check)
    _replace(path, fill)


class AppendingFile:
    """A file that grows by whole records as they complete: ``--out`` of a long run, never held in memory.

    The first ``append`` goes to a temporary file beside the target, which is fsynced and renamed over it:
    until then the old file is untouched, and a run stopped before its first record leaves no trace. Later
    records are appended to the new file in place, each with one ``write`` of whole lines, so a killed
    process leaves every appended record readable (the page cache keeps them). Only the record being
    written at the instant of a SIGKILL may be cut short, as a last line without its newline: for a fatal
    signal the kernel stops a write at a page boundary. A failed append, or one interrupted by a signal
    Python handles (SIGTERM, SIGINT), is cut back to the last whole record. The file is fsynced at most
    every ``sync_every`` seconds and when closed: a power cut loses at most that much. ``records`` counts
    the records in the file."""

    def __init__(self, path: str, sync_every: float = 1.0):
        self.path = path
        self.real = check_target(path)
        self.sync_every = sync_every
        self.records = 0
        self._size = 0
        try:
            self._fd, self._tmp = _create_temp(os.path.dirname(self.real), _extension(self.real))
        except OSError as e:
            raise _error(path, e.errno or errno.EIO, e.strerror or str(e)) from None
        self._synced = time.monotonic()

    @property
    def installed(self) -> bool:
        """True once the file at the target is ours (after the first record)."""
        return self._tmp is None

    def append(self, text: str) -> None:
        """Add one record (whole lines); on failure the file keeps exactly the records before it."""
        data = text.encode("utf-8")
        try:
            _write_all(self._fd, data)
            if not self.installed:
                os.fsync(self._fd)
                _install(self._tmp, self.real)
                self._tmp = None
                self._synced = time.monotonic()
            elif time.monotonic() - self._synced >= self.sync_every:
                os.fsync(self._fd)
                self._synced = time.monotonic()
        except BaseException as e:
            if self._tmp is not None and not os.path.lexists(self._tmp):  # renamed just before the interrupt
                self._tmp = None
                self._size += len(data)
                self.records += 1
            else:
                self._cut_back()
            if isinstance(e, OSError):
                raise _error(self.path, e.errno or errno.EIO, e.strerror or str(e)) from e
            raise
        self._size += len(data)
        self.records += 1

    def _cut_back(self) -> None:
        try:
            os.ftruncate(self._fd, self._size)
            os.lseek(self._fd, self._size, os.SEEK_SET)
        except OSError:
            pass

    def close(self) -> None:
        """Finish: fsync and close; a file with no record yet still replaces the target (it is complete)."""
        if self._fd is None:
            return
        try:
            os.fsync(self._fd)
            if not self.installed:
                _install(self._tmp, self.real)
                self._tmp = None
        except OSError as e:
            self.abort()
            raise _error(self.path, e.errno or errno.EIO, e.strerror or str(e)) from e
        os.close(self._fd)
        self._fd = None

    def abort(self) -> None:
        """Stop after a failure or an interrupt: the target keeps the old file (nothing was installed yet)
        or the records appended so far; no temporary file stays."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if self.installed:
                os.ftruncate(fd, self._size)
                os.fsync(fd)
        except OSError:
            pass
        finally:
            os.close(fd)
            _unlink_quietly(self._tmp)
            self._tmp = None

    def __enter__(self) -> "AppendingFile":
        return self

    def __exit__(self, kind, value, tb) -> None:
        if kind is None:
            self.close()
        else:
            self.abort()
