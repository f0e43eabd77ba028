"""The trainer's runtime and the sweep stay split by reason to change: small modules, short functions, and
the messages that cross the process pipe pickle from their own module."""
import ast
import pickle
from pathlib import Path

from core import ExperimentConfig
from core.runtime import messages

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("core/runtime", "core/sweep")


def _modules():
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).glob("*.py"))]


def test_runtime_and_sweep_modules_are_under_400_lines_and_functions_under_50():
    big = {p.name: n for p in _modules() if (n := len(p.read_text(encoding="utf-8").splitlines())) > 400}
    long = [f"{p.name}:{node.name}" for p in _modules() for node in ast.walk(ast.parse(p.read_text(encoding="utf-8")))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.end_lineno - node.lineno >= 50]
    assert len(_modules()) >= 12 and not big and not long, (big, long)


def test_commands_pickle_from_the_messages_module():
    from core.runtime.runner import Batch, Configure, Rebuild, Run, Step   # the path the window imports them by
    commands = Batch((Configure({"lr": 0.1}), Rebuild(ExperimentConfig(depth=3)), Step(epoch=True), Run(5)))
    assert all(type(c).__module__ == "core.runtime.messages" for c in (commands, *commands.commands))
    assert pickle.loads(pickle.dumps(commands)) == commands
    assert pickle.loads(pickle.dumps(messages._Wake())) == messages._Wake()
