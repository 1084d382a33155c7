"""Modal dialogs: small questions and pickers laid over a screen, answered with `dismiss`.

Apart from kenar_tui/screens/ (the main screen and the longer flows: the button composer,
login, welcome, connection), as Frogmouth keeps `dialogs/` beside `screens/`. The list
pickers share one shape, `picker.FilterPicker`: a filter box, a list, Enter picks, Escape
cancels.
"""
