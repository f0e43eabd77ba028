"""Every frame of a recording says its epoch and step: a band drawn with Qt under the frame, read back from the
GIF and compared with a band drawn with the text the run had; and --export-scale/--export-dpi reach the frames."""
import numpy as np
import pytest
from PIL import Image, ImageSequence

from gui.files.stamp import band_height, stamp_text, stamped
from tests.gui.test_recorder import SMALL, run_main

STEPS_PER_EPOCH = 3   # SMALL: 80 training rows in batches of 32


def gif_frames(path):
    with Image.open(path) as im:
        return [np.asarray(f.convert("RGB"), dtype=float) for f in ImageSequence.Iterator(im)]


def band_of(width, text, scale=1.0):
    """The band as stamped() draws it for ``text`` (it does not depend on the frame above it)."""
    return stamped(np.zeros((1, width, 3), np.uint8), text, scale)[1:].astype(float)


def test_the_band_shows_the_text_and_covers_nothing(qtbot):
    frame = np.full((30, 200, 3), 77, np.uint8)
    out = stamped(frame, "epoch 2 · step 6")
    assert out.shape == (30 + band_height(), 200, 3)
    np.testing.assert_array_equal(out[:30], frame)          # the frame is kept whole
    band = out[30:].astype(float)
    assert band.min() < 80 and np.median(band) == 255       # dark text on white
    assert np.abs(band - band_of(200, "epoch 2 · step 7")).max() > 100   # one digit changes the picture


def test_each_frame_of_a_gif_is_stamped_with_its_epoch_and_step(tmp_path):
    gif = tmp_path / "run.gif"
    p = run_main(["--preset", "batchnorm-fix", *SMALL, "--epochs", "3", "--record", str(gif), "--record-plot", "loss"])
    assert p.returncode == 0, p.stderr
    frames = gif_frames(gif)
    assert len(frames) == 4
    h, w = frames[0].shape[:2]
    expected = [stamp_text(e, e * STEPS_PER_EPOCH) for e in range(4)]   # initialisation, then after each epoch
    assert expected[0] == "epoch 0 · step 0" and expected[3] == "epoch 3 · step 9"
    band = band_height()
    for i, frame in enumerate(frames):
        got = frame[h - band:]
        errors = [np.abs(got - band_of(w, text)).mean() for text in expected]
        assert errors[i] < 1.0, (i, errors)                  # the GIF's palette may shift a grey or two
        assert min(e for j, e in enumerate(errors) if j != i) > 3 * errors[i] + 0.5   # and no other text fits
    for a, b in zip(frames, frames[1:]):                     # consecutive frames differ in the band
        assert np.abs(a[h - band:] - b[h - band:]).max() > 100


def test_every_n_steps_the_band_counts_the_steps(tmp_path):
    gif = tmp_path / "steps.gif"
    p = run_main([*SMALL, "--epochs", "2", "--record", str(gif), "--record-every", "2", "--record-plot", "loss"])
    assert p.returncode == 0, p.stderr
    frames = gif_frames(gif)
    h, w = frames[0].shape[:2]
    # steps 0, 2, 4, 6; the epochs completed then: 0, 0, 1, 2
    for frame, text in zip(frames, ["epoch 0 · step 0", "epoch 0 · step 2", "epoch 1 · step 4", "epoch 2 · step 6"]):
        assert np.abs(frame[h - band_height():] - band_of(w, text)).mean() < 1.0, text


def test_export_scale_draws_the_frames_larger(tmp_path):
    one, three = tmp_path / "one.gif", tmp_path / "three.gif"
    base = [*SMALL, "--epochs", "1", "--record-plot", "loss"]
    assert run_main([*base, "--record", str(one)]).returncode == 0
    p = run_main([*base, "--record", str(three), "--export-scale", "3"])
    assert p.returncode == 0, p.stderr
    f1, f3 = gif_frames(one)[1], gif_frames(three)[1]
    h1, w1 = f1.shape[0] - band_height(), f1.shape[1]
    assert f3.shape[:2] == (3 * h1 + band_height(3), 3 * w1)
    assert np.abs(f3[3 * h1:] - band_of(3 * w1, "epoch 1 · step 3", 3)).mean() < 1.0


def test_a_diverged_run_says_so_on_its_last_frame(small_window, qtbot, tmp_path):
    """In the window: the recorder's log of stamps follows the status line, and the frame after a divergence
    says it diverged."""
    from core.stories.presets import PRESETS
    from tests.gui.conftest import rebuilt_with_config
    w = small_window
    rebuilt_with_config(w, qtbot, PRESETS["exploding"].config(epochs=3))
    path = tmp_path / "boom.gif"
    assert w.files.record(str(path), 3, "gradients")
    qtbot.waitUntil(lambda: w.files.recorder.done, timeout=60000)
    rec = w.files.recorder
    assert rec.error is None and len(rec.stamps) == len(rec.frames) >= 2
    assert rec.stamps[0] == "epoch 0 · step 0" and rec.stamps[-1].endswith(" · diverged")
    status = (w.findChild(type(w.messageLabel), "epochLabel").text(), w.findChild(type(w.messageLabel),
                                                                                  "stepLabel").text())
    assert rec.stamps[-1] == f"{status[0].lower()} · {status[1]} · diverged"
    frames = gif_frames(path)
    h, width = frames[-1].shape[:2]
    assert np.abs(frames[-1][h - band_height():] - band_of(width, rec.stamps[-1])).mean() < 1.0
