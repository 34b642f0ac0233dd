"""Evaluation (staff): run a golden set, read the failures, download reports."""

from ui import evaluation

evaluation.main()
