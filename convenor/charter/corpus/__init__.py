"""The labelled corpus the detector is trained on; `build.py` regenerates it."""
