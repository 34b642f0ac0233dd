"""Feedback (staff): browse ratings, export them as golden cases."""

from ui import feedback_admin

feedback_admin.main()
