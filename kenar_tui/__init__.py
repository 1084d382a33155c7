"""kenar-tui: a keyboard-driven console for Divar sellers' chats, and the relay that feeds it."""

from kenar_core import __version__

__all__ = ["__version__"]
