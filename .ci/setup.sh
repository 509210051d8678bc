#!/usr/bin/env bash
# Set-up on a fresh Debian (bookworm, Python 3.11): system packages, a virtual environment in
# .venv, and the project with its extras ([ui], [bridge], [train], [dev], [openvino], [cluster]).
# Safe to run again.
# `setup.sh render`: only what rendering needs (python3-venv, the project without extras).
set -euo pipefail
MODE=${1:-full}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# python3-venv: the virtual environment; espeak-ng, sox: real speech and audio in tests;
# the lib* line: Qt's offscreen platform (libpulse0: Qt Multimedia links it);
# the libxcb* line: Qt's xcb platform plugin (`clapsep ui` on a real X display, and under Xvfb);
# the hydrogen-data line: real recordings and a soundfont the corpus tests read (the full
# training corpus list is model/corpus/apt-packages.txt);
# the last line: a real Audacity under Xvfb, a stock Lua and Ardour's headless Lua (DAW scripts).
APT_PACKAGES=(
    python3-venv espeak-ng sox
    libegl1 libgl1 libfontconfig1 libxkbcommon0 libglib2.0-0 libdbus-1-3 libpulse0
    libxcb-cursor0 libxcb-icccm4 libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render-util0
    libxcb-shape0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1 libxkbcommon-x11-0 libx11-xcb1 libxcb-glx0
    hydrogen-data fluidsynth timgm6mb-soundfont openttd-opensfx sonic-pi-samples hedgewars-data
    audacity xvfb xauth lua5.4 ardour
)
[ "$MODE" = render ] && APT_PACKAGES=(python3-venv)
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${APT_PACKAGES[@]}" >/dev/null

[ -x "$ROOT/.venv/bin/python" ] || python3 -m venv "$ROOT/.venv"
"$ROOT/.venv/bin/python" -m pip install -q --upgrade pip
if [ "$MODE" = render ]; then
    "$ROOT/.venv/bin/python" -m pip install -q -e "$ROOT"
else
    "$ROOT/.venv/bin/python" -m pip install -q -e "$ROOT[ui,bridge,train,dev,openvino,cluster]"
fi
