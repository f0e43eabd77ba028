"""The split stays readable (issue 20): no module in core/ or gui/ over 400 lines, no function over 50."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULE_LINES, FUNCTION_LINES = 400, 50


def _modules():
    return sorted((ROOT / "core").rglob("*.py")) + sorted((ROOT / "gui").rglob("*.py"))


def test_no_function_over_50_lines():
    long = []
    for path in _modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.name} ({lines} lines)")
    assert not long, long


def test_no_module_over_400_lines():
    big = {str(p.relative_to(ROOT)): n for p in _modules()
           if (n := len(p.read_text(encoding="utf-8").splitlines())) > MODULE_LINES}
    assert not big, big
