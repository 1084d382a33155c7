"""Search normalisation: two spellings a Persian reader treats as the same fold equal.

Folded: Arabic ي/ى/ئ and Persian ی; Arabic ك and Persian ک; ة and ه; hamza and madda
forms of alef; Persian, Arabic-Indic and Latin digits; zero-width (non-)joiners, which
writers use or omit freely (می‌خواهم, میخواهم); diacritics (harakat, Latin accents); tatweel;
letter case; runs of white space.
"""

from __future__ import annotations

import re
import unicodedata

_TABLE = str.maketrans(
    {
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
        "ة": "ه",
        "ۀ": "ه",
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ؤ": "و",
        "ـ": None,  # tatweel, a stretching character
        "\u200c": None,  # zero-width non-joiner
        "\u200d": None,  # zero-width joiner
        "\u200e": None,  # left-to-right mark
        "\u200f": None,  # right-to-left mark
        **{chr(0x06F0 + i): str(i) for i in range(10)},  # Persian digits
        **{chr(0x0660 + i): str(i) for i in range(10)},  # Arabic-Indic digits
    }
)
_SPACES = re.compile(r"\s+")


def fold(text: str) -> str:
    """The form `text` is indexed and searched in."""
    # NFKD splits presentation forms and accents into base letter + combining mark.
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")
    folded = stripped.translate(_TABLE).casefold()
    return _SPACES.sub(" ", folded).strip()
