"""kenar-tui: a keyboard-driven console for Divar sellers' chats, and the relay that feeds it."""

__version__ = "0.1.0"
