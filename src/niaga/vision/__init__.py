"""Product recognition: hierarchical labels (master > sub > article, plus gender) from product photos, and
visual search over a catalogue. See docs/vision.md."""
