"""Personal data the privacy tests must never find in plain bytes: Persian messages and phones."""

from __future__ import annotations

PERSIAN_MESSAGES = (
    "سلام، هنوز این آپارتمان موجوده؟",
    "قیمت نهایی پژو ۲۰۶ چنده؟ فردا ساعت ۵ بیام ببینم",
    "آدرس دقیق: تهران، خیابان ولیعصر، کوچه نسترن، پلاک ۱۲",
    "لطفا با شماره ۰۹۱۲۳۴۵۶۷۸۹ تماس بگیرید",
)
PHONES = ("09123456789", "+989351112233", "۰۹۱۹۸۷۶۵۴۳۲", "٠٩٠١٢٣٤٥٦٧٨")


def needles() -> list[bytes]:
    """Every sample as the bytes a careless store would write (UTF-8, and phones' ASCII form)."""
    found = [m.encode() for m in PERSIAN_MESSAGES]
    # Fragments too: a store that leaked half a message still leaked it.
    found += [word.encode() for m in PERSIAN_MESSAGES for word in m.split() if len(word) >= 4]
    for phone in PHONES:
        found.append(phone.encode())
        latin = phone.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789"))
        found.append(latin.encode())
        found.append(latin.lstrip("+0").encode())
    return found
