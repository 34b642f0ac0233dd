"""Knowledge base (staff): upload, list, delete, re-index."""

from ui import knowledge

knowledge.main()
