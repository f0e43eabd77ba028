"""The help text (our own rich text): symbols defined, claims true, every paragraph tied to a plot."""
import math
import re

from core.stories.presets import get_preset
from core.measure.regimes import EXPLODING_ABOVE, EXPLODING_RISE, VANISHING_RATIO
from core.measure.theory import chi1
from gui.panels.help import HELP_HTML

PLOTS = ("Gradient bars", "Gradient flow", "Loss", "Update ratio", "Prediction", "Chain rule",
         "Step timeline", "Theory overlay", "Through time", "Forward signal", "Distributions", "Network", "Rewind")
PLOTS += ("Position plot", "Gradient per block", "Attention map", "Token similarity")   # issue 22: a Transformer's


def paragraphs():
    return re.findall(r"<p>(.*?)</p>", HELP_HTML, flags=re.S)


def test_the_chain_rule_symbols_are_defined():
    text = HELP_HTML
    assert "<i>pre-activation</i> <code>z_l = o_(l−1) · W_l + b_l</code>" in text
    assert "<i>post-activation</i> (output) <code>o_l = φ(z_l)</code>" in text
    assert "<i>output</i> <code>ŷ</code>" in text and "<code>δ_l = dL/dz_l</code>" in text


def test_every_paragraph_but_the_symbols_and_keys_names_its_plot():
    ps = paragraphs()
    assert len(ps) >= 10
    for p in ps:
        if p.startswith(("<b>The symbols.", "<b>Keys.")):
            continue
        assert any(f"<i>{name}</i>" in p for name in PLOTS), p[:60]


def test_xavier_is_not_said_to_keep_sigmoid_factors_near_1():
    assert "tanh and sigmoid" not in HELP_HTML
    assert "does <i>not</i> do so for sigmoid, whose slope is at\nmost 0.25" in HELP_HTML
    # the reason, checked: a sigmoid layer at Xavier's sigma_w^2 = 1 has chi_1 far below 1
    assert chi1("sigmoid", 1.0) < 0.25 ** 2
    assert get_preset("vanishing-sigmoid").config().init == "xavier"


def test_quoted_numbers_are_the_code_s():
    assert f"below {VANISHING_RATIO:g} of the largest layer" in HELP_HTML
    assert f"{EXPLODING_RISE:g} or more times the output layer" in HELP_HTML
    assert f"any layer above {EXPLODING_ABOVE:g}" in HELP_HTML
    cfg = get_preset("exploding").config()
    assert "ReLU layer of 200 units" in HELP_HTML and cfg.width == 200 and cfg.activation == "relu"
    assert cfg.init == "normal" and math.sqrt(cfg.width / 2) == 10
    assert "10 · 10 · 10 · 10 = 10000" in HELP_HTML and cfg.depth - 1 == 4
    assert "0.25<sup>10</sup> ≈ 1e-6" in HELP_HTML and get_preset("vanishing-sigmoid").config().depth == 10


def test_through_time_numbers_are_the_story_s():
    p = get_preset("rnn-vanishing")
    lo, hi = p.expect["per_step"]
    assert lo <= 0.6 <= hi and p.config().seq_len == 100 and p.config().activation == "tanh"
    assert "0.6<sup>99</sup> ≈ 1e-22 over 100 steps" in HELP_HTML and f"{0.6 ** 99:.0e}" == "1e-22"
    cfg = get_preset("rnn-exploding").config()
    assert "with ReLU and W_h = 1.2 I" in HELP_HTML and (cfg.activation, cfg.recurrent_init, cfg.recurrent_gain) == (
        "relu", "identity", 1.2)
