"""core.io.export_size: the size of an exported picture, as a scale of the on-screen size or a DPI."""
import math

import pytest

from core.config import ConfigError
from core.io.export_size import (DPI_RANGE, MAX_SIDE, PLOT_SCALE, SCALE_RANGE, SCREEN_DPI, check_pixels,
                                 dots_per_metre, dpi_of, export_scale, pixels)


def test_the_default_plot_export_is_at_least_twice_the_screen():
    assert export_scale() == PLOT_SCALE >= 2
    assert pixels(350, 317, export_scale()) == (700, 634)


def test_a_dpi_is_the_scale_that_prints_at_the_on_screen_size():
    assert export_scale(dpi=300) == pytest.approx(300 / 96)
    assert export_scale(dpi="192") == 2.0 and dpi_of(2.0) == 192
    assert export_scale(scale="3") == 3.0
    # the PNG's pHYs unit: 300 DPI is 11811 pixels a metre
    assert dots_per_metre(300 / SCREEN_DPI) == 11811


@pytest.mark.parametrize("kwargs, says", [
    ({"scale": 0}, "export_scale must be a number from 0.25 to 8, got 0"),
    ({"scale": "nine"}, "export_scale must be a number from 0.25 to 8, got 'nine'"),
    ({"scale": "nan"}, "export_scale must be a number from 0.25 to 8, got 'nan'"),
    ({"scale": math.inf}, "export_scale must be a number from 0.25 to 8, got inf"),
    ({"scale": True}, "export_scale must be a number from 0.25 to 8, got True"),
    ({"dpi": 10}, "export_dpi must be a number from 24 to 768, got 10"),
    ({"dpi": "-300"}, "export_dpi must be a number from 24 to 768, got '-300'"),
    ({"scale": 2, "dpi": 300}, "export_scale and export_dpi: give one of them"),
])
def test_a_bad_size_names_the_field_the_value_and_the_range(kwargs, says):
    with pytest.raises(ConfigError) as e:
        export_scale(**kwargs)
    assert says in str(e.value)


def test_the_ranges_ends_are_allowed():
    assert export_scale(scale=SCALE_RANGE[0]) == SCALE_RANGE[0] and export_scale(scale=SCALE_RANGE[1]) == 8
    assert export_scale(dpi=DPI_RANGE[1]) == 8


def test_a_picture_too_large_is_refused_before_it_is_drawn():
    assert check_pixels(1280, 800, 8) == (10240, 6400)
    with pytest.raises(ConfigError) as e:
        check_pixels(3000, 800, 8)
    assert f"3000x800 at scale 8 would be 24000x6400 pixels; at most {MAX_SIDE}" in str(e.value)
    assert "a scale up to 5.46" in str(e.value)
