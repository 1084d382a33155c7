"""The seller's posts in the sandbox and what buyers say about them, in Persian.

Texts are written the way buyers on Divar actually write: short, informal, often without
punctuation, sometimes with Persian digits and sometimes with Latin ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class CataloguePost:
    token: str
    title: str
    category: str
    city: str
    district: str
    price: int
    openers: tuple[str, ...]
    questions: tuple[str, ...]
    extra: dict[str, Any] = field(default_factory=dict)

    def post_data(self) -> dict[str, Any]:
        """The `post` object of a POST_UPDATE event."""
        return {
            "token": self.token,
            "category": self.category,
            "city": self.city,
            "district": self.district,
            "chat_enabled": True,
            "is_phone_hidden": True,
            "data": {"title": self.title, "price": self.price, **self.extra},
        }


POSTS: tuple[CataloguePost, ...] = (
    CataloguePost(
        token="gZd7omnS",
        title="پژو ۲۰۶ تیپ ۵ مدل ۱۳۹۸",
        category="light",
        city="tehran",
        district="vanak",
        price=780_000_000,
        openers=(
            "سلام، این خودرو هنوز موجود است؟",
            "سلام وقت بخیر ماشین فروش رفته؟",
            "سلام قیمت نهایی چنده؟",
            "درود، ماشین رنگ شدگی داره؟",
        ),
        questions=(
            "کارکردش واقعیه؟",
            "بیمه بدنه داره؟ تا کی اعتبار داره",
            "معاوضه با ۲۰۷ هم میکنید؟",
            "امکان کارشناسی تو نمایندگی هست؟",
            "لاستیکاش چند درصده؟",
            "سند به نام خودتونه؟",
            "آخرین قیمت چند؟ نقد میخرم",
        ),
        extra={"year": 1398, "mileage_km": 86_000},
    ),
    CataloguePost(
        token="wYk3pQ9r",
        title="آپارتمان ۸۵ متری دو خواب، سعادت‌آباد",
        category="apartment-sell",
        city="tehran",
        district="saadat-abad",
        price=14_500_000_000,
        openers=(
            "سلام، آپارتمان هنوز فروشی هست؟",
            "سلام وقتتون بخیر امکان بازدید هست؟",
            "سلام متری چند حساب کردید؟",
        ),
        questions=(
            "پارکینگ و انباری داره؟",
            "چند سال ساخته؟",
            "طبقه چندمه؟ آسانسور داره؟",
            "وام داره؟ چقدر؟",
            "جهت ساختمون شمالیه یا جنوبی؟",
            "فردا عصر ساعت ۵ میشه بیام ببینم؟",
        ),
        extra={"size_m2": 85, "rooms": 2},
    ),
    CataloguePost(
        token="Qa8LmT2x",
        title="آیفون ۱۳ پرو ۲۵۶ گیگ در حد نو",
        category="mobile-phones",
        city="isfahan",
        district="chaharbagh",
        price=52_000_000,
        openers=(
            "سلام گوشی هست هنوز؟",
            "سلام، باتریش چند درصده؟",
            "سلام رجیستر شده؟",
        ),
        questions=(
            "جعبه و شارژرش هست؟",
            "تعمیری یا تعویض قطعه داشته؟",
            "فیس آیدیش سالمه؟",
            "پارت نامبرش چیه؟ ZA یا LL",
            "اصفهان تحویل حضوری میدید؟",
            "۴۸ میدید؟",
        ),
        extra={"storage_gb": 256},
    ),
    CataloguePost(
        token="Lp4Vz7Nc",
        title="لپ‌تاپ لنوو ThinkPad T14 نسل ۲",
        category="laptops",
        city="shiraz",
        district="maaliabad",
        price=31_000_000,
        openers=(
            "سلام لپ تاپ موجوده؟",
            "سلام وقت بخیر مشخصات کاملشو میفرستید؟",
        ),
        questions=(
            "رمش چند گیگه؟ قابل ارتقا هست؟",
            "باتری چقدر شارژ نگه میداره؟",
            "خط و خش داره بدنه؟",
            "کارتن و فاکتور داره؟",
            "برای برنامه نویسی مناسبه؟",
        ),
        extra={"ram_gb": 16},
    ),
    CataloguePost(
        token="Hs6Rb1Ke",
        title="مبل راحتی ۷ نفره طوسی",
        category="furniture",
        city="mashhad",
        district="sajad",
        price=18_000_000,
        openers=(
            "سلام مبل هنوز هست؟",
            "سلام چند سال استفاده شده؟",
        ),
        questions=(
            "پارچه‌ش لک نداره؟",
            "ارسال به شهرستان دارید؟",
            "با میز جلو مبلی میدید؟",
            "دسته‌هاش چوبیه؟",
        ),
    ),
)

FOLLOW_UPS: tuple[str, ...] = (
    "ممنون از پاسخ‌تون",
    "باشه پس خبرتون میکنم",
    "عالیه، کی میتونم ببینم؟",
    "یه کم تخفیف بدید همین الان میام",
    "آدرس دقیق رو میفرستید؟",
    "شماره تماس بدید لطفا",
    "باشه، فقط عکس بیشتر دارید؟",
    "مرسی، فکرامو میکنم",
    "اوکی، فردا صبح زنگ میزنم",
    "قیمت آخرتون همینه؟",
)

BUTTON_THANKS: tuple[str, ...] = (
    "دکمه رو زدم، باز شد",
    "رزرو کردم، ممنون",
    "صفحه رو دیدم",
)

CONTACT_NAMES: tuple[str, ...] = (
    "علی رضایی",
    "مریم احمدی",
    "رضا کریمی",
    "سارا محمدی",
    "حسین نوری",
)

FILE_NAMES: tuple[str, ...] = (
    "مدارک-خودرو.pdf",
    "قولنامه.pdf",
    "فاکتور-خرید.jpg",
    "شرایط-اقساط.docx",
)

# Rough city centres, so a shared location lands somewhere plausible.
CITY_CENTRES: dict[str, tuple[float, float]] = {
    "tehran": (35.6892, 51.3890),
    "isfahan": (32.6539, 51.6660),
    "shiraz": (29.5918, 52.5837),
    "mashhad": (36.2605, 59.6168),
}


def post_by_token(token: str) -> CataloguePost | None:
    return next((p for p in POSTS if p.token == token), None)
