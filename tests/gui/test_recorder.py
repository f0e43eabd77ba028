"""--record: one frame at initialisation and one per epoch (or every N steps), of the window or one plot."""
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from gui.files.recorder import PLOTS, Recorder, check_target, encode, frame_of, mp4_writer_missing
from gui.files.stamp import band_height

ROOT = Path(__file__).resolve().parents[2]
SMALL = ["--depth", "3", "--width", "8", "--samples", "100", "--batch-size", "32"]  # 80 training rows: 3 batches


def run_main(args):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)


def frames_of(path):
    with Image.open(path) as im:
        assert im.format == "GIF"
        return im.n_frames, im.size


def test_records_one_frame_per_epoch_of_one_plot(tmp_path):
    gif = tmp_path / "run.gif"
    p = run_main(["--preset", "batchnorm-fix", *SMALL, "--epochs", "3", "--record", str(gif), "--record-plot", "loss"])
    assert p.returncode == 0, p.stderr
    n, (w, h) = frames_of(gif)
    assert n == 1 + 3             # initialisation, then epochs 1..3
    assert w < 1000 and h < 700   # one plot, not the 1280 x 800 window
    assert sorted(os.listdir(tmp_path)) == ["run.gif"]  # no temporary file left behind


def test_records_every_n_steps_of_the_whole_window(tmp_path):
    gif = tmp_path / "steps.gif"
    p = run_main([*SMALL, "--epochs", "2", "--record", str(gif), "--record-every", "2"])
    assert p.returncode == 0, p.stderr
    n, size = frames_of(gif)
    # 6 steps in 2 epochs: frames after steps 2, 4 and 6, plus the one at initialisation
    assert n == 4 and size == (1280, 800 + band_height())   # the window, and the band saying epoch and step


@pytest.mark.parametrize("args, says", [
    (["--record", "/tmp/x.png"], "record: the file name must end in .gif or .mp4"),
    (["--record", "/tmp/x.gif", "--record-plot", "bars"], "record_plot must be one of gradients, loss"),
    (["--record", "/tmp/x.gif", "--record-every", "0"], "record_every must be a whole number of steps"),
    (["--record-every", "3"], "record_every and record_plot need --record FILE.gif"),
    (["--record", "/no/such/folder/x.gif"], "record: cannot write '/no/such/folder/x.gif': the folder '/no/such/folder' does not exist"),
    (["--headless", "--record", "/tmp/x.gif"], "--record cannot be used with --headless: it is for the window"),
    (["--data", "/tmp/x.csv"], "--data cannot be used in the window: it needs --headless"),
])
def test_bad_record_arguments_exit_2_with_one_line(args, says):
    p = run_main(args)
    assert p.returncode == 2 and says in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr


def test_mp4_is_refused_by_name_when_no_writer_is_installed():
    problem = check_target("/tmp/x.mp4", None, None)
    if mp4_writer_missing():
        assert problem.startswith("record: writing .mp4 needs imageio and imageio-ffmpeg")
    else:
        assert problem is None


def test_encode_writes_every_frame_as_a_looping_gif(tmp_path):
    frames = [np.full((20, 30, 3), c, dtype=np.uint8) for c in (0, 120, 255)]
    frames[1][5:10, 5:10] = (200, 30, 30)
    data = encode(frames, "a.gif")
    path = tmp_path / "a.gif"
    path.write_bytes(data)
    with Image.open(path) as im:
        assert im.n_frames == 3 and im.size == (30, 20) and im.info.get("loop") == 0
        im.seek(1)
        rgb = np.asarray(im.convert("RGB"))
    assert tuple(rgb[7, 7]) == (200, 30, 30) and tuple(rgb[0, 0]) == (120, 120, 120)


def test_frame_of_reads_the_widget_pixels(qtbot):
    from PySide6.QtWidgets import QLabel
    label = QLabel()
    label.setStyleSheet("background: rgb(10, 200, 30);")
    label.resize(41, 17)  # an odd width: rows of the image are padded, the frame must not be
    qtbot.addWidget(label)
    label.show()
    frame = frame_of(label)
    assert frame.shape == (17, 41, 3) and frame.dtype == np.uint8
    assert tuple(frame[8, 20]) == (10, 200, 30) and tuple(frame[16, 40]) == (10, 200, 30)


def test_a_failed_write_is_reported_and_leaves_no_file(small_window, tmp_path):
    target = tmp_path / "missing" / "x.gif"
    rec = Recorder(small_window, str(target), epochs=1, plot="gradients")
    rec.frames = [frame_of(getattr(small_window, PLOTS["gradients"]))]
    rec.finish()
    assert rec.done and "cannot write" in rec.error and not target.parent.exists()


@pytest.mark.skipif(mp4_writer_missing() is not None, reason="imageio-ffmpeg is not installed")
def test_mp4_keeps_every_frame_unstretched(tmp_path):
    import imageio.v3 as iio
    frames = [np.full((30, 41, 3), c, dtype=np.uint8) for c in (20, 120, 220)]
    path = tmp_path / "a.mp4"
    path.write_bytes(encode(frames, str(path)))
    video = iio.imread(path)
    assert video.shape == (3, 32, 48, 3)  # padded up to multiples of 16, not resized
    assert abs(int(video[1, 15, 20, 0]) - 120) < 8

