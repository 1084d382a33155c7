"""The console's controllers: the live parts that are not widgets.

`LiveFeed` (relay events into the Inbox), `OutboxWatch` (outbox states), `TeamDesk`
(presence, notes, assignments, who hears what) and `TokenWatch` (the TokenKeeper's news).
The app owns one of each; they never call a screen but post messages (`messages.py`) that
the app and the screens handle.
"""
