"""Gradient-flow simulator: ``python main.py`` opens the window, ``--headless`` trains from the command line."""
import os
import sys

# The machine has 2 cores shared by the GUI thread, the trainer and BLAS: one BLAS thread
# keeps the window responsive and the small matrices of this tool fast. Override by setting these.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    flags = {a.split("=", 1)[0] for a in argv}  # --save-config=FILE names the flag too
    windowless = ("--headless", "-h", "--help", "--list-presets")
    sweep = any(a.startswith("--sweep") for a in flags)
    if sweep or any(a in flags for a in windowless) or ("--save-config" in flags and "--screenshot" not in flags):
        from core.cli import main as cli_main
        from gui.panels.views import NAMES   # Qt-free: the --record-plot help lists the window's views
        return cli_main(argv, record_plots=NAMES)
    from gui.app.start import main as gui_main
    return gui_main(argv)


if __name__ == "__main__":
    sys.exit(main())
