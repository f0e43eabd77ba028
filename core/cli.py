"""The headless command line: ``python main.py --headless [flags]``.

Flags are the config fields in kebab case. Every bad input exits with status 2 and
one line on stderr naming the field and what is allowed; never a traceback. A flag the
chosen way of running would not use is an error too (e.g. ``--theory`` with ``--headless``).

Outputs are checked before anything is trained or written (``fileio.check_target``, and the
free space for ``--out``). ``--out`` grows as epochs complete (``fileio.AppendingFile``), so a
long run never holds its output in memory and a killed run leaves every completed epoch readable.
SIGTERM and Ctrl+C stop a run between steps: the file keeps every completed epoch, no temporary
file stays, and the exit status is 128 + the signal's number, with one line on stderr.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from dataclasses import fields

from core.config import ConfigError, ExperimentConfig, allowed, parse_field
from core.headless import run_headless
from core.io.fileio import check_target, shorten
from core.io.records import experiment_json, read_document, write_atomically
from core.runtime.exits import EXIT_BAD_INPUT, EXIT_RUN_FAILED, Interrupted, RunFailed  # noqa: F401
from core.runtime.exits import forget_signals, raise_if_signalled, raise_interrupted
from core.stories.presets import PRESETS, get_preset



class UsageError(Exception):
    pass




# Flags whose own check refuses an empty value with a message of its own (the file name is empty, one of ...).
_OWN_EMPTY_CHECK = frozenset({"config", "out", "save_config", "screenshot", "preset", "compare"})


def refuse_empty(args: argparse.Namespace) -> None:
    """An empty value (``--data ''``, ``--workers=``) is bad usage naming the flag, never the flag's absence.
    A repeated flag keeps argparse's last value (``--depth 3 --depth 5`` is depth 5); ``--sweep`` collects."""
    for dest, value in vars(args).items():
        values = value if isinstance(value, list) else [value]
        blank = [v for v in values if isinstance(v, str) and not v.strip()]
        if not blank or (dest in _OWN_EMPTY_CHECK and blank == [""]):
            continue
        flag = "--" + dest.replace("_", "-")
        what = f"; it must be {allowed(dest)}" if dest in {f.name for f in fields(ExperimentConfig)} else ""
        raise UsageError(f"{dest}: {flag} was given an empty value{what}")  # a blank one too ('   ')


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print usage and a second line; we want one line
        raise UsageError(message)

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        refuse_empty(parsed)
        return parsed


def build_parser(record_plots: tuple[str, ...] = ()) -> argparse.ArgumentParser:
    """``record_plots``: the window's view names for the help (core imports no gui: the entry points pass them)."""
    p = _Parser(prog="main.py", description="Watch vanishing and exploding gradients while a NumPy network trains.",
                allow_abbrev=False)
    p.add_argument("--headless", action="store_true", help="train without the window and write statistics")
    p.add_argument("--config", metavar="FILE", help="a config or experiment file (JSON, as --save-config or the "
                                                    "window writes it; an experiment's recorded history is not "
                                                    "used); flags override it")
    p.add_argument("--out", metavar="FILE", help="write one JSON object per epoch here as epochs complete "
                                                 "(default: stdout); a name ending in .csv writes CSV, "
                                                 "one row per epoch")
    p.add_argument("--save-config", metavar="FILE", help="write the effective config as JSON (--config reads it back)")
    p.add_argument("--screenshot", metavar="FILE.png", help="run --epochs in the window, save a PNG of it and exit")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--preset", metavar="NAME", help="start from a preset (see --list-presets); flags override it")
    p.add_argument("--list-presets", action="store_true", help="print the presets, one a line, and exit")
    p.add_argument("--compare", metavar="FIELD=VALUE", help="also train a run B that differs in one setting, "
                   "e.g. activation=relu, on the same data in lockstep; records start with \"run\": \"A\"/\"B\"")
    p.add_argument("--theory", action="store_true", help="window: start with the theory overlay on")
    p.add_argument("--theme", metavar="light|dark", help="window: the theme (light, dark or system)")
    p.add_argument("--page", metavar="gradients|inside", help="window: the page of plots to show first "
                   "(gradients, or inside the network: forward signal, distributions, the network, rewind)")
    p.add_argument("--trainer", metavar="thread|process", help="window: train in the window's process (thread) or "
                   "in a process of its own (process: the default with 2 or more cores; the window then draws on a "
                   "core of its own)")
    p.add_argument("--record", metavar="FILE.gif", help="run --epochs in the window and save an animation, one "
                   "frame per epoch (.gif; .mp4 where imageio-ffmpeg is installed), then exit")
    p.add_argument("--record-every", metavar="N", type=int, help="with --record: a frame every N steps instead")
    p.add_argument("--record-plot", metavar="NAME", help="with --record: only this plot (" + (
        ", ".join(record_plots) if record_plots else "a view's name") + "), not the whole window")
    _add_export_flags(p, record_plots)
    p.add_argument("--data", metavar="FILE.csv", help="train on your own data: numeric columns, the last one the "
                   "label or target, an optional header row (see core/data/userdata.py); --save-config then records "
                   "its path and SHA-256, and --config checks them")
    sw = p.add_argument_group("sweeps (one short run per cell; --out keeps finished cells and resumes)")
    sw.add_argument("--sweep", metavar="FIELD=VALUES", action="append", help="FIELD=V1,V2,... or "
                    "FIELD=START:STOP:COUNT (COUNT points, ends included); repeat for more axes; --epochs 0 "
                    "measures at initialisation only")
    sw.add_argument("--sweep-preset", metavar="NAME", help="a preset sweep: deep-information-propagation")
    sw.add_argument("--workers", metavar="N", help="local worker processes (all cores)")
    sw.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run the cells on this Dask cluster")
    _add_reproduction_flags(p)
    _add_config_flags(p)
    return p


def _add_export_flags(p: argparse.ArgumentParser, record_plots: tuple[str, ...]) -> None:
    """Issue 21: one plot instead of the window, and how large (core/io/export_size.py checks the values)."""
    p.add_argument("--export-plot", metavar="NAME", help="with --screenshot: save only this plot (" + (
        ", ".join(record_plots) if record_plots else "a view's name") + ") as File > Export plot does, .png or .svg")
    p.add_argument("--export-scale", metavar="S", help="with --screenshot or --record: draw at S times the "
                   "on-screen size, 0.25 to 8 (a plot 2, the whole window 1)")
    p.add_argument("--export-dpi", metavar="D", help="with --screenshot or --record: draw at D/96 times the on-screen "
                   "size, 24 to 768, and write D as the PNG's DPI (instead of --export-scale)")


def _add_reproduction_flags(p: argparse.ArgumentParser) -> None:
    """Issue 23: the gallery of reproductions and many seeds at once (core/cli_repro.py runs them)."""
    rp = p.add_argument_group("reproductions (published results the simulator checks itself against)")
    rp.add_argument("--list-reproductions", action="store_true", help="print the reproductions, one a line, and exit")
    rp.add_argument("--reproduce", metavar="NAMES|all", help="run these reproductions (comma-separated) or all; "
                    "prints each row, writes the CSV to --out; exit 1 when one fails (--workers, --scheduler)")
    rp.add_argument("--seeds", metavar="N", help="with --headless: N seeds at initialisation, log10 ||dL/dz_l|| per "
                    "seed to --out (CSV) and the band with Hanin & Rolnick's fan on stderr (--workers, --scheduler)")


def _add_config_flags(p: argparse.ArgumentParser) -> None:
    """One flag per config field, generated from FIELD_SPECS (via ``allowed``), defaults in parentheses."""
    cfg = p.add_argument_group("experiment (defaults in parentheses)")
    defaults = ExperimentConfig()
    for f in fields(ExperimentConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name in BOOL_FLAGS:
            cfg.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                             help=BOOL_FLAGS[f.name])
        else:
            cfg.add_argument(flag, dest=f.name, metavar="VALUE", default=None,
                             help=f"{allowed(f.name)} ({getattr(defaults, f.name)})")


BOOL_FLAGS = {"residual": "skip connections around hidden layers 2..depth (off)",
              "master_weights": "float16/bfloat16: update float32 master weights (on); --no-master-weights keeps the "
                                "weights in the format (issue 24)"}


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Preset fields, then the config file's, then the flags: each overrides the one before.
    An empty value (``--preset ""``) is an error like any other bad value, never skipped."""
    values = dict(get_preset(args.preset).fields) if getattr(args, "preset", None) is not None else {}
    if args.config is not None:  # an experiment's recorded history is not used: the config trains afresh
        values.update(read_document(args.config, "config")[0])
    for f in fields(ExperimentConfig):
        raw = getattr(args, f.name)
        if raw is None:
            continue
        values[f.name] = raw if isinstance(raw, bool) else parse_field(f.name, raw)
    return ExperimentConfig.from_dict(values)


# Which flags each way of running uses; any other flag given is an error naming it, never ignored.
_SWITCHES = ("headless", "quiet", "list_presets", "theory", "list_reproductions")
_COMMON = {"config", "preset", "quiet", *(f.name for f in fields(ExperimentConfig))}
MODES = {
    "list": ({"list_presets"}, "with --list-presets, which takes no other flags"),
    "headless": (_COMMON | {"headless", "out", "save_config", "compare", "data"}, "with --headless: it is for the window"),
    "save-config": (_COMMON | {"save_config", "data"}, "with --save-config alone: add --headless to train as well"),
    "sweep": (_COMMON | {"headless", "out", "sweep", "sweep_preset", "workers", "scheduler"},
              "with --sweep: a sweep writes one row per cell to --out"),
    "list-reproductions": ({"list_reproductions"}, "with --list-reproductions, which takes no other flags"),
    "reproduce": ({"reproduce", "out", "workers", "scheduler", "quiet"}, "with --reproduce: a reproduction runs "
                  "its paper's own setup"),
    "seeds": (_COMMON | {"headless", "seeds", "out", "workers", "scheduler"}, "with --seeds"),
    "window": (_COMMON | {"compare", "theory", "theme", "page", "screenshot", "record", "record_every", "record_plot",
                          "trainer", "export_plot", "export_scale", "export_dpi"},
               "in the window: it needs --headless"),
}


def given_flags(args: argparse.Namespace) -> list[str]:
    """The options given on the command line, by dest name."""
    return [k for k, v in vars(args).items() if v is not None and not (k in _SWITCHES and v is False)]


def check_flags(args: argparse.Namespace, mode: str) -> None:
    """UsageError naming every given flag that ``mode`` would not use."""
    used, where = MODES[mode]
    unused = [k for k in given_flags(args) if k not in used]
    if mode == "window" and unused == ["save_config"] and args.screenshot is not None:
        where = "with --screenshot: save the config in a command of its own"
    if unused:
        names = ", ".join("--" + k.replace("_", "-") for k in unused)
        raise UsageError(f"{names} cannot be used {where}")


def check_writable(field: str, path: str) -> None:
    """Refuse, before any work, an output that could not be written (UsageError naming the flag and the path)."""
    try:
        check_target(path)
    except OSError as e:
        raise UsageError(f"{field}: cannot write {shorten(repr(path))}: {e.strerror or e}") from None


def parse_compare(spec: str, config: ExperimentConfig) -> tuple[str, object]:
    """'activation=relu' -> ('activation', 'relu'), validated against the config it will differ from."""
    from core.training.compare import Comparison
    field, sep, text = spec.partition("=")
    field = field.strip().replace("-", "_")
    if not sep or not field:
        raise UsageError(f"compare: expected FIELD=VALUE, e.g. activation=relu, got {shorten(repr(spec))}")
    try:
        value = parse_field(field, text)
    except ConfigError as e:
        raise ConfigError("compare", f"compare: {e}") from None
    Comparison.check(config, field, value)
    return field, value


@contextlib.contextmanager
def stop_on_signals():
    """SIGTERM and SIGINT raise Interrupted, so a run stops cleanly; a second one ends the process at once."""
    try:
        previous = {s: signal.signal(s, raise_interrupted) for s in (signal.SIGINT, signal.SIGTERM)}
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        raise_if_signalled()   # one that came during the imports and whose exception was lost
        yield
    finally:
        forget_signals()
        for s, h in previous.items():
            signal.signal(s, h)


def _run(argv: list[str], record_plots: tuple[str, ...]) -> int:
    args = build_parser(record_plots).parse_args(argv)
    mode = ("list" if args.list_presets else "list-reproductions" if args.list_reproductions
            else "reproduce" if args.reproduce is not None else "seeds" if args.seeds is not None else "sweep" if args.sweep is not None or args.sweep_preset is not None
            else "headless" if args.headless or args.screenshot is not None
            else "save-config" if args.save_config is not None else "headless")
    check_flags(args, mode)
    if mode == "list":
        width = max(map(len, PRESETS))
        for p in PRESETS.values():
            print(f"{p.name:<{width}}  {p.summary}")
        return 0
    if mode in ("list-reproductions", "reproduce", "seeds"):
        from core import cli_repro
        if mode == "seeds":
            return cli_repro.seeds(args, config_from_args(args), check_writable)
        return cli_repro.list_reproductions() if mode == "list-reproductions" else \
            cli_repro.reproduce(args, check_writable)
    if mode == "sweep":
        from core.sweep import run_from_args
        return run_from_args(args, config_from_args)
    cfg = config_from_args(args)
    from core.data.userdata import data_from_args
    data = data_from_args(args, cfg)
    compare = parse_compare(args.compare, cfg) if args.compare is not None else None
    outputs = [(k, getattr(args, k)) for k in ("save_config", "out") if getattr(args, k) is not None]
    for field, path in outputs:  # every output checked before anything is written or trained
        check_writable(field, path)
    if len(outputs) == 2 and os.path.realpath(args.out) == os.path.realpath(args.save_config):
        raise UsageError("--out and --save-config name the same file")
    if args.save_config is not None:
        write_atomically(args.save_config, experiment_json(cfg, None, data.source if data is not None else None))
        if mode == "save-config":
            return 0
    return run_headless(cfg, args.out, args.quiet, compare=compare, data=data)


def error_line(message: str, limit: int = 1000) -> str:
    """``message`` as one line of at most about ``limit`` characters."""
    return shorten(message.replace("\r", "\\r").replace("\n", "\\n"), limit)


def main(argv: list[str] | None = None, record_plots: tuple[str, ...] = ()) -> int:
    """``record_plots``: the window's view names, for the help (see build_parser)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        with stop_on_signals():
            return _run(argv, record_plots)
    except (UsageError, ConfigError) as e:
        print(f"main.py: error: {error_line(str(e))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunFailed as e:
        print(f"main.py: error: {error_line(str(e))}", file=sys.stderr)
        return EXIT_RUN_FAILED
    except MemoryError:  # NumPy's _ArrayMemoryError too: the estimate (resources.check_fits) was passed, yet
        print("main.py: error: memory ran out: reduce batch_size, width, depth or samples", file=sys.stderr)
        return EXIT_RUN_FAILED
    except BrokenPipeError:  # e.g. piped into `head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as e:
        print(f"main.py: error: cannot write {shorten(repr(e.filename))}: {error_line(str(e.strerror or e))}",
              file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt as e:  # before a run started
        status = 128 + getattr(e, "signum", signal.SIGINT)
        print(f"main.py: interrupted by {signal.Signals(status - 128).name}", file=sys.stderr)
        return status
