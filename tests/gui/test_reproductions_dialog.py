"""Help > Reproductions: the table shows core's rows, runs one with progress, and opens a row's setup as a story."""
import pytest

from core.stories.reproductions import REPRODUCTIONS, run_reproduction
from gui.app.reproductions import ReproductionsDialog


@pytest.fixture
def dialog(qtbot):
    opened = []
    d = ReproductionsDialog(None, on_open=lambda cfg, text: opened.append((cfg, text)), workers=1)
    d.opened = opened
    qtbot.addWidget(d)
    d.show()
    yield d
    d.stop()


def _select(d, name):
    for r in range(d.table.rowCount()):
        if d.table.item(r, 0).text() == name:
            d.table.selectRow(r)
            return r
    raise AssertionError(name)


def test_table_lists_every_check(dialog):
    assert dialog.table.rowCount() == sum(len(r.checks) for r in REPRODUCTIONS.values())
    names = {dialog.table.item(r, 0).text() for r in range(dialog.table.rowCount())}
    assert names == set(REPRODUCTIONS)
    assert all(dialog.table.item(r, 4).text() == "" for r in range(dialog.table.rowCount()))  # nothing measured yet


def test_run_one_shows_cores_numbers(dialog, qtbot):
    assert not dialog.run_selected()   # nothing selected: says so
    assert dialog.status.text() == "Select a row first."
    row = _select(dialog, "bengio-1994")
    assert dialog.run_selected()
    qtbot.waitUntil(lambda: not dialog.running, timeout=30000)
    expected = run_reproduction(REPRODUCTIONS["bengio-1994"])
    for i, r in enumerate(expected):
        assert dialog.table.item(row + i, 4).text() == f"{r.measured:.4g}"
        assert dialog.table.item(row + i, 6).text() == "pass"
    assert dialog.progress.value() == 1 and dialog.progress.maximum() == 1
    assert dialog.status.text() == "Done: 1 run, 0 checks failing."


def test_open_as_story(dialog):
    _select(dialog, "glorot-2010")
    assert dialog.open_selected()
    cfg, text = dialog.opened[-1]
    assert cfg.activation == "tanh" and cfg.init == "uniform" and cfg.depth == 5
    assert text.startswith("glorot-2010: ")


def test_no_story_for_the_transformer_rows(dialog):
    _select(dialog, "noci-2022")
    assert not dialog.open_selected() and not dialog.opened
    assert "not a model kind" in dialog.status.text()


def test_main_window_menu_opens_it(qtbot):
    from gui.app.main_window import MainWindow
    w = MainWindow()
    qtbot.addWidget(w)
    try:
        d = w.open_reproductions(workers=1)
        _select(d, "he-2015")
        d.open_selected()
        assert w.config.activation == "relu" and w.config.depth == 30 and w.config.init == "xavier"
        d.close()
    finally:
        w.close()
