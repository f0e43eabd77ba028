"""The one reader for the JSON files people give us (config and experiment files).

``read_json(path, field)`` returns the parsed document, or raises ConfigError(field, one line) for anything
wrong with the file, never another exception:

- the name is empty; the file is missing, a folder, or not a regular file (``/dev/zero``, a FIFO, a socket:
  refused before reading, so nothing blocks or fills memory);
- it is larger than ``size_limit()``: what half the memory available can parse (2.6 bytes of memory per
  byte of file, measured on a 69 MiB experiment), at least 16 MiB and at most 256 MiB (MAX_BYTES);
- it is not UTF-8 (UTF-16 and UTF-32 are named as such; a UTF-8 byte-order mark is allowed);
- it is not JSON, holds NaN or Infinity (not JSON), a number beyond a float's range (``1e400``), an integer of
  more than ``MAX_INT_DIGITS`` digits, a key twice in one object, or arrays and objects nested deeper than
  ``MAX_DEPTH``.

Messages quote at most a short piece of any value (``fileio.shorten``).
"""
from __future__ import annotations

import codecs
import json
import math
import os
import re
import stat

from core.config import ConfigError
from core.io.fileio import shorten

MAX_BYTES = 2**28        # an experiment of 4000 epochs of a 100-layer network is 69 MiB, parsed in about 9 s on
                         # 2 busy cores: a larger file is refused at once rather than after a minute (issue 25)
MIN_BYTES = 16 * 2**20
MEMORY_PER_BYTE = 4      # peak memory while parsing, per byte of file: 2.6 measured, with a margin
MAX_DEPTH = 32           # our files nest 5 deep
MAX_INT_DIGITS = 30      # the largest field, seed, has 10
HEAD_BYTES = 4096        # what read_bytes's check_head sees

_BOMS = ((codecs.BOM_UTF32_LE, "UTF-32"), (codecs.BOM_UTF32_BE, "UTF-32"),
         (codecs.BOM_UTF16_LE, "UTF-16"), (codecs.BOM_UTF16_BE, "UTF-16"))


class _Refused(Exception):
    """Raised from inside the JSON parser's hooks; becomes a ConfigError naming the file."""


def _parse_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_INT_DIGITS:
        raise _Refused(f"holds an integer of {digits} digits (at most {MAX_INT_DIGITS} are allowed)")
    return int(text)


def _parse_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"holds the number {shorten(text, 40)}, beyond the range of a float")
    return value


def _parse_constant(name: str):
    raise _Refused(f"holds {name}, which is not JSON (write null for a missing number)")


def _object(pairs: list) -> dict:
    d = dict(pairs)
    if len(d) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _Refused(f"holds the key {shorten(k, 60)!r} twice in one object")
            seen.add(k)
    return d


def _depth(doc) -> int:
    """How deeply arrays and objects nest in ``doc`` (a scalar is 0), without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (list, dict)):
            deepest = max(deepest, level)
            children = node.values() if isinstance(node, dict) else node
            stack.extend((c, level + 1) for c in children if isinstance(c, (list, dict)))
    return deepest


def size_limit() -> int:
    """The largest file read: what half the available memory can parse, from MIN_BYTES to MAX_BYTES."""
    from core.runtime.resources import available_memory
    available = available_memory()
    if available is None:
        return MAX_BYTES
    return int(min(MAX_BYTES, max(MIN_BYTES, available // 2 // MEMORY_PER_BYTE)))


def read_bytes(path: str, field: str, limit: int | None = None, check_head=None) -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes (default ``size_limit()``), else ConfigError.
    ``check_head(head, size)``, when given, sees the first HEAD_BYTES and the file's size before the rest is read
    (and may raise ConfigError)."""
    def bad(why):
        return ConfigError(field, f"{field}: {shorten(repr(path))} {why}")
    if not isinstance(path, str) or not path:
        raise ConfigError(field, f"{field}: the file name is empty")
    try:  # O_NONBLOCK: opening a FIFO with no writer must not hang
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except (OSError, ValueError) as e:
        raise bad(f"cannot be read: {getattr(e, 'strerror', None) or e}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise bad("is a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise bad("is not a regular file (a device, pipe or socket)")
        if limit is None:  # small files need no look at the memory (reading /proc/meminfo takes ~1 ms)
            limit = MIN_BYTES if st.st_size <= MIN_BYTES else size_limit()
        if st.st_size > limit:
            raise bad(f"is {st.st_size:,} bytes; at most {limit:,} are read (with the memory available)")
        if check_head is not None:
            check_head(os.pread(fd, HEAD_BYTES, 0), st.st_size)
        with os.fdopen(os.dup(fd), "rb") as fh:
            data = fh.read(limit + 1)  # the size may have lied (/proc) or grown
    except OSError as e:
        raise bad(f"cannot be read: {e.strerror or e}") from None
    except MemoryError:
        raise bad("is too large to read into memory") from None
    finally:
        os.close(fd)
    if len(data) > limit:
        raise bad(f"is more than {limit:,} bytes")
    return data


def decode(data: bytes, path: str, field: str) -> str:
    """UTF-8 text of ``data`` (a UTF-8 byte-order mark dropped), else ConfigError naming the encoding problem."""
    where = f"{field}: {shorten(repr(path))}"
    for bom, name in _BOMS:
        if data.startswith(bom):
            raise ConfigError(field, f"{where} is {name} text; save it as UTF-8")
    if b"\0" in data[:4]:
        raise ConfigError(field, f"{where} holds NUL bytes (UTF-16 or UTF-32 text, or not text); save it as UTF-8")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ConfigError(field, f"{where} is not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); "
                                 "save it as UTF-8") from None


def parse(text: str, path: str, field: str):
    """The JSON document in ``text`` within the limits above, else ConfigError."""
    where = f"{field}: {shorten(repr(path))}"
    try:
        doc = json.loads(text, parse_int=_parse_int, parse_float=_parse_float, parse_constant=_parse_constant,
                         object_pairs_hook=_object)
    except _Refused as e:
        raise ConfigError(field, f"{where} {e}") from None
    except json.JSONDecodeError as e:
        raise ConfigError(field, f"{where} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    except RecursionError:
        raise ConfigError(field, f"{where} nests arrays or objects more than {MAX_DEPTH} deep") from None
    except MemoryError:
        raise ConfigError(field, f"{where} is too large to read into memory") from None
    except ValueError as e:  # anything else the parser refuses
        raise ConfigError(field, f"{where} is not valid JSON: {shorten(e)}") from None
    if _depth(doc) > MAX_DEPTH:
        raise ConfigError(field, f"{where} nests arrays or objects more than {MAX_DEPTH} deep")
    return doc


def read_json(path: str, field: str = "file", limit: int | None = None, check_head=None):
    """The JSON document in the file ``path``; every failure is a ConfigError(field, message naming the file).
    ``check_head``: see ``read_bytes``."""
    return parse(decode(read_bytes(path, field, limit, check_head), path, field), path, field)


_SPACE = re.compile(r"[ \t\n\r]*")


def opening(head: bytes) -> tuple[str, str | None]:
    """What the JSON document whose first bytes are ``head`` opens with (no parse): the first
    character after white space ('' for none) and, for an object, its first key (None when there is none or it
    is not a well-formed string). Lets a caller refuse a huge file that cannot be what it wants before parsing
    it: the parser takes ~1 s per million numbers (issue 25: 200 MB of numbers took 100 s to be refused)."""
    text = head.decode("utf-8", "replace").removeprefix("\ufeff")   # a cut character at the end is harmless
    i = _SPACE.match(text).end()
    first = text[i:i + 1]
    if first != "{":
        return first, None
    j = _SPACE.match(text, i + 1).end()
    if text[j:j + 1] != '"':
        return first, None
    try:
        return first, json.decoder.scanstring(text, j + 1)[0]
    except ValueError:   # an unterminated or malformed key: the parser says where
        return first, None
