"""docs/ARCHITECTURE.md stays true: its module map lists every module of core/ and gui/, once, and every
module, file or dotted name it cites exists."""
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "ARCHITECTURE.md").read_text(encoding="utf-8")


def _modules() -> set[str]:
    """Every module, packages' __init__ files aside (core/__init__.py, the public API, included)."""
    return {p.relative_to(ROOT).as_posix() for top in ("core", "gui") for p in (ROOT / top).rglob("*.py")
            if p.name != "__init__.py"} | {"core/__init__.py"}


def _map_section() -> str:
    start = DOC.index("## Module map")
    end = DOC.find("\n## ", start + 1)
    return DOC[start:end if end != -1 else len(DOC)]


def test_the_map_lists_every_module_once():
    listed = re.findall(r"^\s*[-|]\s*`((?:core|gui)/[\w/]+\.py)`", _map_section(), flags=re.M)
    missing = sorted(_modules() - set(listed))
    assert not missing, f"modules missing from docs/ARCHITECTURE.md's module map: {missing}"
    twice = sorted({m for m in listed if listed.count(m) > 1})
    assert not twice, f"listed more than once: {twice}"


def test_every_file_the_document_cites_exists():
    cited = set(re.findall(r"((?:core|gui|tests|benchmarks|docs)/[\w/.-]+\.(?:py|md|sh))", DOC))
    gone = sorted(p for p in cited if not (ROOT / p).exists())
    assert not gone, f"docs/ARCHITECTURE.md cites files that do not exist: {gone}"


def _resolve(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return False
        return True
    return False


def test_every_dotted_name_the_document_cites_exists():
    pytest.importorskip("PySide6")
    cited = set(re.findall(r"`((?:core|gui)(?:\.\w+)+)", DOC))
    gone = sorted(name for name in cited if not _resolve(name))
    assert not gone, f"docs/ARCHITECTURE.md cites names that do not exist: {gone}"
