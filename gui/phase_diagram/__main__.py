"""``python -m gui.phase_diagram SWEEP.csv OUT.png [METRIC]``: draw a sweep CSV as a phase diagram, headless.

Exit status as every entry point's (core.runtime.exits): 0 drawn, 1 the picture could not be written, 2 bad
usage or a file that is not a readable sweep CSV (refused before Qt loads), 130/143 interrupted."""
import os
import sys

from core.runtime.exits import EXIT_BAD_INPUT, EXIT_RUN_FAILED, run_entry

NAME = "python -m gui.phase_diagram"
USAGE = f"usage: {NAME} SWEEP.csv OUT.png [METRIC]"


def _refuse(message: str) -> int:
    print(f"{NAME}: error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT


def main(argv: list) -> int:
    from core.runtime.setup import configure_process
    configure_process()   # an entry point: BLAS threads and the allocator, before NumPy loads
    from core.config import ConfigError
    from core.io.fileio import check_target, shorten
    from core.sweep import METRICS, plan_from_csv
    if argv[:1] in (["-h"], ["--help"]):
        print(USAGE + f"\nMETRIC: one of {', '.join(METRICS)} (val_accuracy)")
        return 0
    if not 2 <= len(argv) <= 3:
        return _refuse(f"expected 2 or 3 arguments, got {len(argv)}; {USAGE}")
    csv_path, png_path, metric = (*argv, "val_accuracy")[:3]
    if metric not in METRICS:
        return _refuse(f"metric must be one of {', '.join(METRICS)}, got {shorten(repr(metric))}")
    try:
        plan, _ = plan_from_csv(csv_path)
        if len(plan.axes) != 2:
            raise ConfigError("sweep", f"sweep: a phase diagram needs two axes, this sweep has {len(plan.axes)}")
        check_target(png_path)
    except ConfigError as e:
        return _refuse(str(e))
    except OSError as e:
        return _refuse(f"cannot write {shorten(repr(png_path))}: {e.strerror or e}")
    if not (os.environ.get("QT_QPA_PLATFORM") or os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"  # a picture needs no screen
    from gui.phase_diagram.view import render_png
    return 0 if render_png(csv_path, png_path, metric) else EXIT_RUN_FAILED


if __name__ == "__main__":
    sys.exit(run_entry(lambda: main(sys.argv[1:]), NAME))
