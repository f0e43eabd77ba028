"""The split stays readable: no function in core/ or gui/ over 60 lines, no gui/ module over 500."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_function_over_60_lines():
    long = []
    for path in sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "gui").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60:
                    long.append(f"{path.name}:{node.name} ({lines} lines)")
    assert not long, long


def test_no_gui_module_over_500_lines():
    big = {p.name: n for p in (ROOT / "gui").rglob("*.py")
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500}
    assert not big, big
