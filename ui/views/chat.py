"""Chat page (everyone)."""

from ui import chat

chat.main()
