"""The command line's picture size: --export-plot (one plot with --screenshot), --export-scale, --export-dpi; bad
values exit 2 with one line naming the flag, the value and what is allowed."""
import pytest
from PIL import Image

from tests.gui.test_recorder import SMALL, run_main


def png(path):
    with Image.open(path) as im:
        return im.format, im.size, im.info.get("dpi")


def test_one_plot_is_saved_at_twice_the_screen_by_default_and_as_asked(tmp_path):
    runs = {"default": [], "one": ["--export-scale", "1"], "print": ["--export-dpi", "300"]}
    for name, extra in runs.items():
        p = run_main([*SMALL, "--epochs", "1", "--export-plot", "loss", "--screenshot", str(tmp_path / f"{name}.png"),
                      *extra])
        assert p.returncode == 0, p.stderr
    fmt, (w1, h1), dpi1 = png(tmp_path / "one.png")
    _, size2, dpi2 = png(tmp_path / "default.png")
    _, size_print, dpi_print = png(tmp_path / "print.png")
    assert fmt == "PNG" and 200 < w1 < 1000 and h1 < 700          # a plot, not the 1280 x 800 window
    assert size2 == (2 * w1, 2 * h1) and dpi2 == pytest.approx((192, 192), abs=0.1)
    assert size_print == (round(w1 * 300 / 96), round(h1 * 300 / 96)) and dpi_print == pytest.approx((300, 300),
                                                                                                     abs=0.1)


def test_the_window_screenshot_stays_at_screen_size_unless_asked(tmp_path):
    p = run_main([*SMALL, "--epochs", "1", "--screenshot", str(tmp_path / "w.png"), "--export-scale", "1.5"])
    assert p.returncode == 0, p.stderr
    assert png(tmp_path / "w.png")[1] == (1920, 1200)


def test_a_plot_as_svg(tmp_path):
    p = run_main([*SMALL, "--epochs", "1", "--export-plot", "gradients", "--screenshot", str(tmp_path / "g.svg")])
    assert p.returncode == 0, p.stderr
    assert "<svg" in (tmp_path / "g.svg").read_text()


@pytest.mark.parametrize("args, says", [
    (["--screenshot", "/tmp/x.png", "--export-scale", "0"], "export_scale must be a number from 0.25 to 8, got '0'"),
    (["--screenshot", "/tmp/x.png", "--export-scale", "big"], "export_scale must be a number from 0.25 to 8, "
                                                              "got 'big'"),
    (["--screenshot", "/tmp/x.png", "--export-dpi", "5000"], "export_dpi must be a number from 24 to 768, "
                                                             "got '5000'"),
    (["--screenshot", "/tmp/x.png", "--export-dpi", "300", "--export-scale", "2"],
     "export_scale and export_dpi: give one of them"),
    (["--screenshot", "/tmp/x.png", "--export-plot", "bars"], "export_plot must be one of gradients, loss"),
    (["--screenshot", "/tmp/x.gif", "--export-plot", "loss"], "the file name must end in .png or .svg"),
    (["--export-scale", "2"], "export_scale and export_dpi need --screenshot FILE.png or --record FILE.gif"),
    (["--record", "/tmp/x.gif", "--export-plot", "loss"], "export_plot needs --screenshot FILE.png"),
    (["--headless", "--export-dpi", "300"], "--export-dpi cannot be used with --headless: it is for the window"),
])
def test_bad_export_arguments_exit_2_with_one_line(args, says):
    p = run_main(args)
    assert p.returncode == 2 and says in p.stderr and len(p.stderr.strip().splitlines()) == 1, p.stderr
