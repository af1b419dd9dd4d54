#!/usr/bin/env bash
# scripts/term_screenshot.sh [BUILD] [OUT=docs/term_live.png]: the README's picture of the
# live view in the terminal. Trains three spirals with nn.fit(..., {viz = true}) in a tmux
# pane of 120x40 (RELUA_VIZ=terminal, 24-bit color), captures the pane with its colors while
# training runs (tmux capture-pane -e), and draws the captured cells as PNG with relua's own
# canvas (viz._term_png: 8x16 pixels a cell, braille dots and blocks as shapes).
set -eu
build=$(cd "${1:-build}" && pwd)
out=${2:-docs/term_live.png}
sock=relua-shot-$$
work=$(mktemp -d)
trap 'tmux -L "$sock" kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
cat >"$work/train.lua" <<'LUA'
local nn = require "nn"
nn.manual_seed(0)
local x, y = nn.data.spirals(200, 3)
local model = nn.Sequential(nn.Linear(2, 64), nn.ReLU(), nn.Linear(64, 64), nn.ReLU(),
  nn.Linear(64, 3))
print("three spirals, a 2-64-64-3 ReLU MLP; the view below is the terminal's own text")
nn.fit(model, {x, y}, {epochs = 400, batch = 32, optim = nn.optim.Adam(model, {lr = 2e-3}),
  val = {x, y}, viz = {title = "nn.fit: three spirals", res = 96}})
LUA
tmux -L "$sock" -f /dev/null new-session -d -s shot -x 120 -y 40 \
  "cd '$PWD' && RELUA_VIZ=terminal COLORTERM=truecolor TERM=tmux-256color '$build/relua' '$work/train.lua'; sleep 60"
for _ in $(seq 1 600); do # until the 120th epoch's line is there (or the pane is gone)
  tmux -L "$sock" capture-pane -p -t shot | grep -q '^epoch 120/400' && break
  sleep 0.2
done
tmux -L "$sock" capture-pane -e -p -t shot >"$work/screen.txt"
"$build/relua" -e "
  local f = assert(io.open('$work/screen.txt')); local s = f:read('a'); f:close()
  require('viz')._term_png(s, 120, 40, '$out')"
echo "wrote $out"
