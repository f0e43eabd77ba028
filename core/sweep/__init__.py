"""Sweeps: one short run per cell of a grid of configs, streamed into a CSV that survives being killed.

    python main.py --sweep init_gain=1:2:7 --sweep depth=10:100:10 --epochs 5 --out map.csv

Each cell is a config (the fixed flags plus one value per swept field) and is seeded from that config
alone, so its numbers do not depend on where or with what it ran: in this process, in local worker
processes, or on a Dask cluster. Cells are grouped into tasks of about a second; finished rows are
appended to the CSV with flush and fsync as they arrive, so a killed sweep loses only the cells in
flight, and running the same command again runs only the missing cells. At the end the file is
rewritten, atomically, in the grid's order.

Columns: the swept fields, the metrics (``METRICS``), then every other config field, so a file
says what produced it and a resumed sweep refuses a file made with other settings.

The parts: ``plan`` (the axes, the grid, the columns), ``cells`` (one cell's metrics, cells grouped into
tasks), ``executors`` (serial, local processes, Dask), ``csv_file`` (append, resume, read back),
``run`` (run_sweep and the command line's ``--sweep``), ``presets`` (named sweeps). Import the names
from here: ``from core.sweep import make_plan, run_sweep, SerialExecutor``.
"""
from core.sweep.plan import MAX_CELLS, METRICS, Axis, Plan, cell_text, key_of, make_plan, parse_axis
from core.sweep.cells import (GAIN_SAMPLES, TASK_SECONDS, calibrate, cost, grad_gain, make_groups, measure,
                              run_group, worker_group)
from core.sweep.executors import DaskExecutor, LocalExecutor, SerialExecutor, make_executor
from core.sweep.csv_file import RowAppender, csv_line, metric_grid, plan_from_csv, read_existing, sorted_csv
from core.sweep.presets import SWEEP_PRESETS, SweepPreset
from core.sweep.run import Progress, plan_from_args, run_from_args, run_sweep, stream_rows

__all__ = [
    "MAX_CELLS", "METRICS", "Axis", "Plan", "cell_text", "key_of", "make_plan", "parse_axis",
    "GAIN_SAMPLES", "TASK_SECONDS", "calibrate", "cost", "grad_gain", "make_groups", "measure", "run_group",
    "worker_group", "DaskExecutor", "LocalExecutor", "SerialExecutor", "make_executor",
    "RowAppender", "csv_line", "metric_grid", "plan_from_csv", "read_existing", "sorted_csv",
    "SWEEP_PRESETS", "SweepPreset", "Progress", "plan_from_args", "run_from_args", "run_sweep", "stream_rows",
]
