"""Photos and files: sending them through the outbox, and opening or saving what buyers send."""
