"""Regression evaluation: golden question sets, deterministic grading, reports.

``python -m bot eval GOLDEN…`` runs sets and writes JSON/JUnit/HTML reports;
``python -m bot golden add`` appends verified cases; ``pytest --golden FILE``
runs a set as test items.  Grading is offline and deterministic: normalised
substring matching, never a model's opinion.
"""

from bot.evaluation.golden import GoldenCase, GoldenError, GoldenSet, append_case, load_golden

__all__ = ["GoldenCase", "GoldenError", "GoldenSet", "append_case", "load_golden"]
