"""FilterPicker: the one shape of every list picker — a filter box over a list of choices.

Typing filters the list (the subclass ranks the matches), Up/Down move the highlight while
the box keeps the focus, Enter picks the highlighted choice, a click picks the clicked one,
Escape answers None. Subclasses say how to match, how a choice reads, and what picking it
answers; their bindings keep their own ids (`BINDING_PREFIX.cancel`, `.next`, `.previous`),
so a user's keymap written for one picker stays valid. A picker without `BINDING_PREFIX`
declares its own bindings instead (same actions, its older ids kept): `cancel`, and
`to_list` where Down moves the focus into the list rather than the highlight.
"""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from textual import on
from textual.binding import Binding, BindingType
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList
from textual.widgets.option_list import Option

ResultT = TypeVar("ResultT")
ChoiceT = TypeVar("ChoiceT")


class FilterPicker(ModalScreen[ResultT | None], Generic[ChoiceT, ResultT]):
    """A filter Input and an OptionList of `ChoiceT`; answers a `ResultT`, or None."""

    BINDING_PREFIX: ClassVar[str] = "picker"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Before Textual's own __init_subclass__, which merges the class's BINDINGS.
        prefix = cls.__dict__.get("BINDING_PREFIX")
        if prefix is not None:  # each picker's keys under its own ids
            cls.BINDINGS = [
                Binding("escape", "cancel", "cancel", id=f"{prefix}.cancel"),
                Binding("down", "highlight(1)", "next", show=False, id=f"{prefix}.next"),
                Binding("up", "highlight(-1)", "previous", show=False, id=f"{prefix}.previous"),
                *cls.__dict__.get("BINDINGS", []),
            ]
        super().__init_subclass__(**kwargs)

    BINDINGS: ClassVar[list[BindingType]] = []

    def __init__(self) -> None:
        super().__init__()
        self.choices_shown: list[ChoiceT] = []

    # --- what a subclass says -------------------------------------------------------------

    def ranked(self, query: str) -> list[ChoiceT]:
        """The choices `query` keeps, best first."""
        raise NotImplementedError

    def option(self, choice: ChoiceT, index: int) -> Option:
        """How `choice` reads in the list (Content or Text from parts, never markup)."""
        raise NotImplementedError

    def picked(self, choice: ChoiceT) -> None:
        """Answer for `choice` (`self.dismiss(...)`), or say why it cannot be picked."""
        raise NotImplementedError

    def filtered(self, query: str) -> None:
        """Called after each refill, for a count or a note (optional)."""

    # --- the shared behaviour -------------------------------------------------------------

    @property
    def listing(self) -> OptionList:
        return self.query_one(OptionList)

    def refill(self, query: str) -> None:
        self.choices_shown = self.ranked(query)
        listing = self.listing
        listing.clear_options()
        listing.add_options(self.option(c, i) for i, c in enumerate(self.choices_shown))
        if self.choices_shown:
            listing.highlighted = 0
        self.filtered(query)

    def typed(self, event: Input.Changed) -> None:
        """The filter box changed: refill (a subclass may read the text otherwise first)."""
        self.refill(event.value)

    @on(Input.Changed)
    def _filter(self, event: Input.Changed) -> None:
        self.typed(event)

    def submitted(self) -> None:
        """Enter in the filter box: pick the highlighted choice (a subclass may refill first)."""
        highlighted = self.listing.highlighted
        if highlighted is None or highlighted >= len(self.choices_shown):
            self.app.bell()
            return
        self.picked(self.choices_shown[highlighted])

    @on(Input.Submitted)
    def _pick_highlighted(self) -> None:
        self.submitted()

    @on(OptionList.OptionSelected)
    def _pick_selected(self, event: OptionList.OptionSelected) -> None:
        self.picked(self.choices_shown[event.option_index])

    def action_highlight(self, delta: int) -> None:
        if delta > 0:
            self.listing.action_cursor_down()
        else:
            self.listing.action_cursor_up()

    def action_to_list(self) -> None:
        """Move the focus from the filter box into the list, on its first choice."""
        if self.choices_shown:
            listing = self.listing
            listing.focus()
            listing.highlighted = 0

    def action_cancel(self) -> None:
        self.dismiss(None)
