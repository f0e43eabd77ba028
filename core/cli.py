"""The headless command line: ``python main.py --headless [flags]``.

Flags are the config fields in kebab case. Every bad input exits with status 2 and
one line on stderr naming the field and what is allowed; never a traceback.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import os
import sys
import time
from dataclasses import fields

from .config import ConfigError, ExperimentConfig, allowed, parse_field
from .presets import PRESETS, get_preset
from .records import FORMAT, csv_header, csv_row, experiment_json, write_atomically

EXIT_BAD_INPUT = 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would print usage and a second line; we want one line
        raise UsageError(message)


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="main.py", description="Watch vanishing and exploding gradients while a NumPy network trains.",
                allow_abbrev=False)
    p.add_argument("--headless", action="store_true", help="train without the window and write statistics")
    p.add_argument("--config", metavar="FILE", help="JSON object of config fields; flags override it")
    p.add_argument("--out", metavar="FILE", help="write one JSON object per epoch here (default: stdout); "
                                                 "a name ending in .csv writes CSV, one row per epoch")
    p.add_argument("--save-config", metavar="FILE", help="write the effective config as JSON (--config reads it back)")
    p.add_argument("--screenshot", metavar="FILE.png", help="run --epochs in the window, save a PNG of it and exit")
    p.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.add_argument("--preset", metavar="NAME", help="start from a preset (see --list-presets); flags override it")
    p.add_argument("--list-presets", action="store_true", help="print the presets, one a line, and exit")
    p.add_argument("--compare", metavar="FIELD=VALUE", help="also train a run B that differs in one setting, "
                   "e.g. activation=relu, on the same data in lockstep; records start with \"run\": \"A\"/\"B\"")
    p.add_argument("--theory", action="store_true", help="window: start with the theory overlay on")
    p.add_argument("--theme", metavar="light|dark", help="window: the theme (light, dark or system)")
    p.add_argument("--record", metavar="FILE.gif", help="run --epochs in the window and save an animation, one "
                   "frame per epoch (.gif; .mp4 where imageio-ffmpeg is installed), then exit")
    p.add_argument("--record-every", metavar="N", type=int, help="with --record: a frame every N steps instead")
    p.add_argument("--record-plot", metavar="NAME", help="with --record: only this plot (gradients, loss, heatmap, "
                   "updates, boundary), not the whole window")
    p.add_argument("--data", metavar="FILE.csv", help="train on your own data: numeric columns, the last one the "
                   "label or target, an optional header row (see core/userdata.py); --save-config then records "
                   "its path and SHA-256, and --config checks them")
    cfg = p.add_argument_group("experiment (defaults in parentheses)")
    defaults = ExperimentConfig()
    for f in fields(ExperimentConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.name == "residual":
            cfg.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None,
                             help="skip connections around hidden layers 2..depth (off)")
        else:
            cfg.add_argument(flag, dest=f.name, metavar="VALUE", default=None,
                             help=f"{allowed(f.name)} ({getattr(defaults, f.name)})")
    return p


def load_config_file(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except OSError as e:
        raise UsageError(f"config: cannot read {path!r}: {e.strerror or e}") from None
    try:
        d = json.loads(text)
    except json.JSONDecodeError as e:
        raise UsageError(f"config: {path!r} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}") from None
    if not isinstance(d, dict):
        raise UsageError(f"config: {path!r} must hold a JSON object of field: value pairs, got {type(d).__name__}")
    if d.get("format") == FORMAT:  # an experiment file: its config (its data file is read by userdata)
        d = d.get("config")
        if not isinstance(d, dict):
            raise UsageError(f"config: {path!r} is an experiment file without a config object")
    return d


def config_from_args(args: argparse.Namespace) -> ExperimentConfig:
    """Preset fields, then the config file's, then the flags: each overrides the one before."""
    values = dict(get_preset(args.preset).fields) if getattr(args, "preset", None) else {}
    if args.config:
        values.update(load_config_file(args.config))
    for f in fields(ExperimentConfig):
        raw = getattr(args, f.name)
        if raw is None:
            continue
        values[f.name] = raw if isinstance(raw, bool) else parse_field(f.name, raw)
    return ExperimentConfig.from_dict(values)


def record_line(stats, run: str | None = None) -> str:
    record = stats.to_record() if run is None else {"run": run, **stats.to_record()}
    return json.dumps(record, allow_nan=False, separators=(", ", ": "))


def _csv_line(cells) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow(cells)
    return buf.getvalue()


def check_writable(field: str, path: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageError(f"{field}: folder {folder!r} does not exist")


def parse_compare(spec: str, config: ExperimentConfig) -> tuple[str, object]:
    """'activation=relu' -> ('activation', 'relu'), validated against the config it will differ from."""
    from .compare import Comparison
    field, sep, text = spec.partition("=")
    field = field.strip().replace("-", "_")
    if not sep:
        raise UsageError(f"compare: expected FIELD=VALUE, e.g. activation=relu, got {spec!r}")
    value = parse_field(field, text)
    Comparison.check(config, field, value)
    return field, value


def run_headless(cfg: ExperimentConfig, out_path: str | None, quiet: bool,
                 stdout=None, stderr=None, compare: tuple[str, object] | None = None, data=None) -> int:
    """Train for cfg.epochs and write one record per epoch; with ``compare``, runs A and B in lockstep
    and each record (or CSV row) starts with its run's name. ``data``: a data set from a file."""
    from .compare import Comparison
    from .trainer import Trainer

    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if out_path is not None:
        check_writable("out", out_path)
    runs = Comparison(cfg, *compare, data=data).runs if compare else {"A": Trainer(cfg, data)}
    tagged = compare is not None
    as_csv = out_path is not None and out_path.lower().endswith(".csv")
    n_layers = max(t.network.n_layers for t in runs.values())
    lines: list[str] = []
    if as_csv:
        lines.append(_csv_line((["run"] if tagged else []) + csv_header(n_layers)))
    started = last_report = time.monotonic()
    for _ in range(cfg.epochs):
        for name, trainer in runs.items():
            if trainer.diverged:
                continue
            stats = trainer.step_epoch()
            if as_csv:
                row = csv_row(stats, n_layers)
                line = _csv_line([name] + row if tagged else row)
            else:
                line = record_line(stats, run=name if tagged else None)
            if out_path is None:
                print(line, file=stdout, flush=True)
            else:
                lines.append(line)
            if stats.diverged:
                print(f"{'run ' + name + ': ' if tagged else ''}{trainer.divergence}; training stopped",
                      file=stderr, flush=True)
        now = time.monotonic()
        a = runs["A"]
        if not quiet and (now - last_report > 1.0 or a.epoch == cfg.epochs):
            last_report = now
            e = a.last_epoch
            print(f"epoch {e.epoch}/{cfg.epochs}  train loss {e.train_loss:.4g}  val loss {e.val_loss:.4g}  "
                  f"{sum(t.step for t in runs.values()) / (now - started):.0f} steps/s", file=stderr, flush=True)
        if all(t.diverged for t in runs.values()):
            break
    if out_path is not None:
        write_atomically(out_path, "".join(s + "\n" for s in lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser().parse_args(argv)
        if args.list_presets:
            width = max(map(len, PRESETS))
            for p in PRESETS.values():
                print(f"{p.name:<{width}}  {p.summary}")
            return 0
        if args.record or args.record_every or args.record_plot:
            raise UsageError("record: animations are recorded in the window; drop --headless")
        cfg = config_from_args(args)
        from .userdata import data_from_args
        data = data_from_args(args, cfg)
        if args.save_config:
            check_writable("save_config", args.save_config)
            text = experiment_json(cfg, None, data.source) if data is not None else \
                json.dumps(cfg.to_dict(), indent=1) + "\n"
            write_atomically(args.save_config, text)
            if not args.headless:
                return 0
        compare = parse_compare(args.compare, cfg) if args.compare else None
        return run_headless(cfg, args.out, args.quiet, compare=compare, data=data)
    except (UsageError, ConfigError) as e:
        print(f"main.py: error: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"main.py: error: cannot write {e.filename!r}: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # e.g. piped into `head`: the reader has all it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("main.py: interrupted", file=sys.stderr)
        return 130
