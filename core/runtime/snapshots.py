"""How the ``Runner`` makes a snapshot: what is new since the last one, the extras (prediction picture, chain rule,
chain through time) spaced to cost a small share of the time, and the message a snapshot carries."""
from __future__ import annotations

import time

from core.measure.jacobian import measure_view
from core.measure.through_time import from_step, measure as measure_through_time, pascanu_bound
from core.nn.kinds import kind_of
from core.runtime.messages import SHOWN_JACOBIAN, SHOWN_ALL, SHOWN_PICTURE, Kind, RunView, Snapshot
from core.training.session import RunState, divergence_message


class SnapshotMaker:
    """The snapshot half of ``core.runtime.runner.Runner``: it reads the state ``Runner.__init__`` sets (the
    session, the channel, what was sent so far, the pacing of extras and of the prediction picture)."""

    # The costly extras (the prediction picture, the Jacobian's spectrum) take at most this share of the trainer's
    # time while it runs: 3% (spaced with the chain rule, they took up to 9%, the largest cost of the window to
    # training; docs/PERFORMANCE.md). The picture is then redrawn every ~0.3 s (small networks) to every ~3 s (50
    # layers of 256); a pause or a step sends it at once.
    EXTRAS_SHARE = 0.03

    # A PAUSED snapshot leaves out a prediction picture that costs more than this (seconds): sent after it.
    QUICK_PICTURE = 0.05

    def _send_left_out_picture(self) -> None:
        """Idle after a pause whose snapshot left the prediction picture out: send it now."""
        if self.session.state is RunState.PAUSED:
            self._sending_picture = True
            try:
                self._emit(Kind.PAUSED, force=True)
            finally:
                self._sending_picture = False
        self._grid_pending = False

    def _new_steps(self) -> dict:
        steps = self.session.a.steps
        rows = steps.rows(self._sent_steps, deltas=False)   # the window keeps no per-step ||dL/dz|| (the bars read a batch's)
        self._sent_steps = len(steps)
        return rows

    def _new_epochs(self, run: str) -> list:
        h = self.session.history(run)
        new = [h[i] for i in range(self._sent[run], len(h))]
        self._sent[run] = len(h)
        return new

    def _extras(self, now: float, force: bool, kind: Kind):
        """The chain rule and, for a recurrent model, the chain through time are the latest step's own numbers (no
        pass of their own; before any step, one pass on the first batch): spaced to take ~10% of the time. The
        prediction picture (a forward pass over a grid) and the Jacobian's spectrum cost passes: spaced on their own
        to take ``EXTRAS_SHARE`` of it, and made only while the window shows them (``channel.shown``), at once when
        one comes into sight. Forced (a step, a pause, a rebuild): all of them."""
        shown = SHOWN_ALL if force else self.channel.shown
        sighted, self._shown = shown & ~self._shown, shown   # came into sight since the last snapshot
        if not (force or sighted or now >= self._extras_due):
            self._jacobian_view = None
            return None, None, None
        t, tb = self.session.a, self.session.b
        started = time.perf_counter()
        chain = t.chain_rule() if not t.diverged else None
        through = None
        if "time_chain" in kind_of(t.config).views and not t.diverged:   # B's only when forced: its bars before a step
            through = (self._through_time(t), self._through_time(tb) if tb is not None and force else None)
        self._extras_due = now + 10 * (time.perf_counter() - started) + 0.2
        boundary, self._jacobian_view = None, None
        if force or sighted or now >= self._costly_due:
            started = time.perf_counter()
            boundary = self._picture(t, kind) if shown & SHOWN_PICTURE else None
            self._jacobian_view = measure_view(t) if (shown & SHOWN_JACOBIAN and "jacobian" in kind_of(t.config).views
                                                      and not t.diverged) else None
            self._costly_due = now + (time.perf_counter() - started) * (1 / self.EXTRAS_SHARE - 1) + 0.2
        return boundary, chain, through

    @staticmethod
    def _through_time(t):
        """The chain through time of ``t``'s latest step (the numbers its time-step bars show), or measured on
        the first batch before any step."""
        if t.last_batch is not None:
            return from_step(t.last_batch, pascanu_bound(t.config, t.network))
        return measure_through_time(t)

    def _picture(self, t, kind: Kind):
        """The prediction picture, or None when the window keeps the one it has (the weights have not changed)
        or when it is costly and a pause waits for its snapshot (then it is sent right after)."""
        if (self._generation, t.step) == self._picture_of and not self._grid_pending:
            return None
        if kind is Kind.PAUSED and not self._sending_picture and self._grid_seconds > self.QUICK_PICTURE:
            self._grid_pending = True   # (also when a pause interrupted the picture being drawn while running)
            return None
        started = time.perf_counter()
        running = self.channel.running.is_set()
        boundary = t.prediction_grid(self._grid_resolution(), self._interrupted if running else None)
        self._grid_pending = boundary is None and running and self._interrupted()
        self._grid_seconds = time.perf_counter() - started
        self._picture_of = (self._generation, t.step) if boundary is not None else None
        return boundary

    def _b_view(self) -> RunView | None:
        s, tb = self.session, self.session.b
        if tb is None:
            return None
        return RunView(label=s.label("B"), label_a=s.label("A"), config=tb.config, epoch=tb.epoch, step=tb.step,
                       new_epochs=self._new_epochs("B"), last_batch=tb.last_batch, divergence=tb.divergence,
                       n_layers=tb.network.n_layers, inside=self._inside["B"].delta(tb.inside),
                       rewind=self._rewind["B"].delta(tb.rewind))

    def _emit(self, kind: Kind, force: bool = False, data=None, message: str = "", initial=None, **rebuilt) -> bool:
        """``rebuilt``: the Snapshot fields only a REBUILT snapshot carries (what the data set is)."""
        now, c = time.perf_counter(), self.channel
        if not force and (now - self._last_emit < c.min_interval or not c.drawn.is_set()):
            return False
        if now - self._rate_time >= 0.5:
            self._steps_per_second = self._rate_steps / (now - self._rate_time)
            self._rate_steps, self._rate_time = 0, now
        s, t = self.session, self.session.a
        message, error = self._message(kind, message)
        initial_b = rebuilt.pop("initial_transformer_b", None)   # issue 22: run B's Transformer at initialisation
        boundary, chain, through_time = self._extras(now, force, kind)
        snap = Snapshot(generation=self._generation, kind=kind, state=s.state, config=s.config,
                        epoch=t.epoch, step=t.step, new_epochs=self._new_epochs("A"), last_batch=t.last_batch,
                        divergence=t.divergence, steps_per_second=self._steps_per_second, boundary=boundary,
                        data=data, n_layers=t.network.n_layers, message=message, chain=chain, phase=self._phase,
                        b=self._b_view(), target_epoch=s.target_epoch, last_finite_batch=t.last_finite_batch,
                        initial_grad_norm=initial, batches_per_epoch=t.batches_per_epoch, error=error,
                        steps=self._new_steps(), chance_loss=self._chance,
                        inside=self._inside["A"].delta(t.inside), rewind=self._rewind["A"].delta(t.rewind),
                        **rebuilt)
        if snap.b is not None:
            snap.b.initial_transformer = initial_b
        snap.through_time = through_time
        snap.jacobian = getattr(self, "_jacobian_view", None)
        self._last_emit = now
        c.drawn.clear()
        c.emit(snap)
        return True

    def _message(self, kind: Kind, message: str) -> tuple[str, bool]:
        """The snapshot's message and whether it is an error: a replay's verdict, a divergence, the end."""
        s = self.session
        if kind in (Kind.DONE, Kind.DIVERGED) and self._expected is not None:
            expected, self._expected = self._expected, None
            diffs = s.differences(expected)
            if not diffs:
                return f"Replayed {len(expected)} epochs: identical to the recorded history.", False
            return (f"Replayed {len(s.history())} epochs, but they differ from the recorded history in "
                    f"{', '.join(diffs[:4])}{' ...' if len(diffs) > 4 else ''} (recorded by another version, "
                    "or edited)."), True
        if kind is Kind.DIVERGED:
            return message or divergence_message(s.a.divergence), True
        if kind is Kind.DONE and not message:
            return f"Reached epoch {s.a.epoch}. Run continues for {s.config.epochs} more.", False
        return message, False

    def _grid_resolution(self) -> int:
        # Keep the grid's forward pass near 2e7 multiply-adds whatever the network's size.
        n_params = self.session.a.network.flat.size
        side = int((2e7 / max(n_params, 1)) ** 0.5)
        return max(12, min(80, side))
