"""Training corpus for the bundled model, built from openly licensed Debian audio packages.

Torch-free (numpy and pedalboard): `clapsep corpus build` installs nothing into the
repository; it reads the packages listed in `packages.py`, labels files with the
hand-written table (`table_speech.py`, `table_effects.py`, vocabulary in
`vocabulary.py`), renders General MIDI phrases and a little synthetic speech, and
writes 32 kHz mono clips with `clips.csv`, `licences.csv` and `summary.json` to a
folder outside the repository. Entry point: `model.corpus.build.build`.
"""
