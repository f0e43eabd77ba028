"""BLAS threads and the allocator are set up by the entry points (core.runtime.setup), never by ``import core``."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.runtime import setup

ROOT = Path(__file__).resolve().parents[2]
LINUX = sys.platform.startswith("linux")


def _python(code: str, **env) -> list:
    """Run ``code`` in a fresh interpreter without the BLAS variables (unless given); its last line, as JSON."""
    clean = {k: v for k, v in os.environ.items() if k not in (*setup.BLAS_THREAD_VARS, "GRADFLOW_KEEP_MALLOC")}
    p = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env={**clean, **env}, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


BLAS_THREADS = ("from threadpoolctl import threadpool_info; "
                "blas = [i['num_threads'] for i in threadpool_info() if i['user_api'] == 'blas']; ")


def test_import_core_and_training_do_not_set_the_process_up():
    # every call of a set-up function (whatever imports it, from the first import on) is seen by the profiler
    code = ("import json, os, sys; calls = []; names = ('configure_process', 'set_blas_threads', 'tune_allocator', "
            "'tune'); sys.setprofile(lambda frame, event, arg: event == 'call' and frame.f_code.co_name in names "
            "and calls.append(frame.f_code.co_name)); "
            "import core; from core import ExperimentConfig, Trainer, make_plan; "
            "Trainer(ExperimentConfig(depth=2, width=4, samples=64)).step_batch(); sys.setprofile(None); "
            "print(json.dumps([calls, os.environ.get('OPENBLAS_NUM_THREADS')]))")
    assert _python(code) == [[], None]


@pytest.mark.skipif(not LINUX, reason="the allocator is tuned on glibc only")
def test_main_sets_the_process_up_before_numpy_loads():
    code = ("import json, sys, main; assert 'numpy' not in sys.modules; main.main(['--list-presets']); "
            "import core.runtime.setup as s; " + BLAS_THREADS + "print(json.dumps([s.configured, blas]))")
    configured, blas = _python(code)
    assert configured == {"blas_threads": 1, "allocator": True}
    assert blas and set(blas) == {1}


def test_a_blas_thread_count_the_user_set_is_kept():
    code = ("import json, main; main.main(['--list-presets']); import core.runtime.setup as s; "
            + BLAS_THREADS + "print(json.dumps([s.configured['blas_threads'], blas]))")
    threads, blas = _python(code, OPENBLAS_NUM_THREADS="2", OMP_NUM_THREADS="2")
    assert threads == 2 and set(blas) == {min(2, os.cpu_count() or 1)}


def test_numpy_loaded_first_is_limited_with_threadpoolctl():
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: BLAS starts with one thread anyway")
    code = ("import json, numpy, core.runtime.setup as s; " + BLAS_THREADS + "before = blas; s.configure_process(); "
            + BLAS_THREADS + "print(json.dumps([before, blas]))")
    before, after = _python(code)
    assert max(before) > 1 and set(after) == {1}


def test_the_trainer_process_sets_itself_up():
    from core import ExperimentConfig
    from core.runtime.runner_process import TrainerProcess
    p = TrainerProcess(ExperimentConfig(depth=2, width=4, samples=64))
    try:
        while not p.started:
            message = p.receive(30.0)
            assert message is not None and message[0] != "ended", message
        assert p.process_setup == {"blas_threads": 1, "allocator": LINUX}
    finally:
        p.shutdown()


def test_a_sweep_worker_sets_itself_up_once_with_one_blas_thread(monkeypatch):
    from core.sweep import cells, make_plan
    from core import ExperimentConfig
    calls = []
    monkeypatch.setattr(cells, "configure_process", lambda **kw: calls.append(kw) or kw)
    monkeypatch.setattr(cells, "_WORKER_SET_UP", [])
    plan = make_plan(ExperimentConfig(depth=2, width=4, samples=64, epochs=1), ["depth=2,3"])
    rows = cells.worker_group(plan, [(2,)]) + cells.worker_group(plan, [(3,)])
    assert calls == [{"blas_threads": 1, "force": True}]
    assert rows == cells.run_group(plan, [(2,), (3,)])
