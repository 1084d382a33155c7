"""Persian-aware text for the console: display order, search folding, times and sizes."""

from kenar_tui.text.bidi import display, has_rtl
from kenar_tui.text.fold import fold
from kenar_tui.text.formats import format_size, format_time, format_wait, to_digits

__all__ = ["display", "fold", "format_size", "format_time", "format_wait", "has_rtl", "to_digits"]
