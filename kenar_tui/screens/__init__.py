"""Textual screens of the console."""
