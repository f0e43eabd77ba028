"""Generated hostile inputs for the fuzz suite (issue 25): files that are not what a reader expects.

``make_inputs(folder, valid)`` writes, next to each other in ``folder``, variants of the valid file content
``valid`` (bytes) and the special files a user can name, and returns {name: path}. Every reader's expected
outcome for each name is a table in the test module that uses them (tests/core/test_fuzz_readers.py).
"""
from __future__ import annotations

import codecs
import os
import random

# name -> how to make the bytes from the valid content; the special files are made below
MUTATIONS = {
    "valid": lambda v: v,
    "utf8_bom": lambda v: codecs.BOM_UTF8 + v,
    "utf16": lambda v: v.decode("utf-8").encode("utf-16"),            # with its own byte-order mark
    "utf32": lambda v: v.decode("utf-8").encode("utf-32"),
    "latin1_byte": lambda v: v.replace(b"\n", b"\xe9\n", 1),
    "nul_bytes": lambda v: v[:len(v) // 2] + b"\0\0\0" + v[len(v) // 2:],
    "empty": lambda v: b"",
    "whitespace": lambda v: b" \n\t\n  \n",
    "crlf": lambda v: v.replace(b"\n", b"\r\n"),
    "cut_in_half": lambda v: v[:len(v) // 2],
    "first_line_only": lambda v: v.split(b"\n", 1)[0],
    "random_bytes": lambda v: bytes(random.Random(25).randrange(256) for _ in range(300)),
    "deep_json": lambda v: b"[" * 100_000 + b"]" * 100_000,
    "long_line": lambda v: b"9" * (3 << 20),
    "nan_text": lambda v: v.replace(b"0.1", b"nan", 1),
    "inf_text": lambda v: v.replace(b"0.1", b"inf", 1),
    "huge_number": lambda v: v.replace(b"0.1", b"1e400", 1),
}

SPECIAL = ("folder", "fifo", "dev_zero_link", "dev_null", "dangling_link", "link_loop", "missing", "sparse_huge")


def make_inputs(folder, valid: bytes) -> dict:
    folder = str(folder)
    paths = {}
    for name, make in MUTATIONS.items():
        paths[name] = os.path.join(folder, name)
        with open(paths[name], "wb") as fh:
            fh.write(make(valid))
    special = {name: os.path.join(folder, name) for name in SPECIAL}
    os.mkdir(special["folder"])
    os.mkfifo(special["fifo"])   # no writer: a reader that opens it blocking would hang
    os.symlink("/dev/zero", special["dev_zero_link"])   # endless: a reader without a bound fills memory
    os.symlink("/dev/null", special["dev_null"])
    os.symlink(os.path.join(folder, "nowhere"), special["dangling_link"])
    os.symlink(special["link_loop"], special["link_loop"])
    with open(special["sparse_huge"], "wb") as fh:   # 2 GiB that use no disk: over every reader's limit
        fh.truncate(2 << 30)
    return {**paths, **special}
