#!/usr/bin/env bash
# Regenerate every screenshot the README shows, offscreen, from the stories' own runs.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
export QT_QPA_PLATFORM=offscreen
for name in $($PY main.py --list-presets | awk '{print $1}'); do
  extra=(); [ "$name" = edge-of-chaos ] && extra=(--theory)
  for theme in light dark; do
    $PY main.py --preset "$name" --theme "$theme" "${extra[@]}" --screenshot "docs/stories/$name-$theme.png"
  done
done
$PY main.py --preset vanishing-sigmoid --page inside --screenshot docs/inside-vanishing-sigmoid.png
$PY main.py --preset exploding --page inside --screenshot docs/inside-exploding.png
$PY main.py --preset rnn-vanishing --screenshot docs/rnn-vanishing.png
$PY main.py --preset lstm-fix --screenshot docs/lstm-fix.png
$PY main.py --preset vanishing-sigmoid --compare activation=relu --screenshot docs/compare.png
# issue 22: the Transformer's views (README, 'The Transformer in the window')
TF=(--model transformer --dataset recall --depth 6 --width 32 --heads 4 --seq-len 16 --activation relu)
for theme in light dark; do
  $PY main.py "${TF[@]}" --branch-scale none --epochs 2 --theme "$theme" --screenshot "docs/transformer-no-skips-$theme.png"
  $PY main.py "${TF[@]}" --optimizer adam --lr 0.001 --epochs 5 --theme "$theme" --screenshot "docs/transformer-pre-ln-$theme.png"
done
# issue 23: the Jacobian tab's free-probability density (ReLU: the curve beside the histogram, the atom at 0 stated)
for theme in light dark; do
  $PY docs/jacobian_screenshot.py relu he "$theme" "docs/jacobian-density-relu-$theme.png"
done
# issue 21: the Inside page of recurrent models and the Transformer (per layer x time step, unrolled)
for name in rnn-vanishing lstm-fix gru-fix attention-vs-rnn; do
  for theme in light dark; do
    $PY main.py --preset "$name" --page inside --theme "$theme" --screenshot "docs/inside-$name-$theme.png"
  done
done
