"""Gradient-flow simulator: ``python main.py`` opens the window, ``--headless`` trains from the command line."""
import sys


def main(argv=None) -> int:
    from core.runtime.setup import configure_process
    # Before NumPy loads: one BLAS thread, as the 2 shared cores run the GUI thread, the trainer and BLAS
    # (OPENBLAS_NUM_THREADS etc. override it); the allocator tuned for a step's temporaries.
    configure_process()
    argv = sys.argv[1:] if argv is None else list(argv)
    flags = {a.split("=", 1)[0] for a in argv}  # --save-config=FILE names the flag too
    windowless = ("--headless", "-h", "--help", "--list-presets", "--list-reproductions", "--reproduce")
    sweep = any(a.startswith("--sweep") for a in flags)
    if sweep or any(a in flags for a in windowless) or ("--save-config" in flags and "--screenshot" not in flags):
        from core.cli import main as cli_main
        from gui.panels.views import NAMES   # Qt-free: the --record-plot help lists the window's views
        return cli_main(argv, record_plots=NAMES)
    from gui.app.start import main as gui_main
    return gui_main(argv)


if __name__ == "__main__":
    from core.runtime.exits import run_entry  # imports only `signal`: Ctrl+C during imports is handled
    sys.exit(run_entry(main, "main.py"))
