"""A warmer rewrite, safe to send once its fields are filled: keep what the admin said, fill what the
conversation tells (name, product, place, order), and mark what it cannot know as `[[fields]]`.

The reply box jumps the cursor from field to field and neither it nor the API sends text that still
holds one (inbox.reply_fields), so a suggestion can never reach a customer half-written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from inbox.reply_fields import field_mark
from monitoring.tone import lexicon as lx
from monitoring.tone.features import CustomerInfo, Question
from monitoring.tone.normalize import tokens_of
from monitoring.tone.phrases import PhraseGroup

# A sentence ends at . ! ? a line break or an emoji, but not at the dot of "Rp52.000".
_SENTENCE_RE: Final = re.compile("(?:[^.!?\n\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]|(?<=\\d)[.,](?=\\d))+")
_PLACE_RE: Final = re.compile(r"\b(?:ke|to|kirim|ship)\s+([A-Z][a-zA-Z]+(?:\s[A-Z][a-zA-Z]+)?)")
_PRODUCT_RE: Final = re.compile(r"\b([a-z]{3,})\s+(?:ini|itu)\b")
_PRODUCT_EN_RE: Final = re.compile(r"\b(?:this|that|the)\s+([a-z]{3,})\b")
_PRODUCT_STOP: Final = frozenset(
    {
        "kak",
        "barang",
        "produk",
        "yang",
        "kalau",
        "saya",
        "aku",
        "apakah",
        "untuk",
        "tanya",
        "mau",
        "kakak",
        "yg",
        "klo",
        "kalo",
        "sis",
        "gan",
        "min",
        "mbak",
        "pesanan",
        "paket",
        "harga",
        "ukuran",
        "warna",
        "the",
        "apa",
        "gimana",
        "ready",
        "stok",
        "masih",
        "ada",
        "bisa",
        "order",
        "beli",
        "pakai",
        "cara",
        "ongkir",
        "caranya",
        "kok",
        "tapi",
        "udah",
        "sudah",
        "dong",
        "kenapa",
        "berapa",
        "itu",
        "ini",
        "juga",
        "nanya",
        "permisi",
    }
)
_TEMPLATE_ONLY: Final = PhraseGroup(lx.TEMPLATE)
_COLD_AND_TEMPLATE: Final = PhraseGroup(lx.TEMPLATE, *lx.COLD.phrases)
_NEGATIVE: Final = frozenset({"tidak", "belum", "no", "habis", "kosong", "maaf", "sorry"})
_SHOPPING: Final = frozenset({"price", "stock", "size", "colour", "discount", "payment", "shipping"})
_COLD_CODES: Final = frozenset({"blames_customer", "lecturing", "dismissive", "cold_emoji"})


@dataclass(frozen=True, slots=True)
class SuggestContext:
    """What the conversation already tells about the customer and their order, for filling a suggestion.

    Empty fields are looked for in the customer's messages; what neither gives stays a field
    (`[[...]]`, inbox.reply_fields) that the admin must fill before the reply can be sent.
    """

    name: str = ""
    order: str = ""
    product: str = ""
    place: str = ""
    # False mid-conversation (the shop spoke to this customer lately): no "Halo kak" opener.
    greeting_owed: bool = True


_NO_CONTEXT: Final = SuggestContext()
_NAME_RE: Final = re.compile(r"^[^\W\d_]{2,20}$")
# "pesanan 2412ABCD99", "order #INV-1234", "no resi JX1234567": an id of 6+ characters with a digit.
_ORDER_RE: Final = re.compile(
    r"(?:pesanan|order|invoice|inv|resi|no\.?)\s*(?:saya|aku|ku|nya|no\.?|nomor|number|#|:)*\s*#?"
    r"([A-Z0-9][A-Z0-9-]{5,30})",
    re.IGNORECASE,
)


def _first_name(name: str) -> str:
    """The contact's first name when it reads as one (never an id or a placeholder like "Pelanggan ·4429")."""
    words = name.strip().split()
    if not words or len(words) > 4 or not _NAME_RE.match(words[0]):
        return ""
    first = words[0]
    if first.lower() in {"pelanggan", "customer", "instagram", "messenger", "whatsapp", "shopee", "tiktok"}:
        return ""
    return first[0].upper() + first[1:]


class _Ctx:
    """Where the customer wants it sent, what product and which order they mean, read from the
    conversation's context or their messages when a sentence first needs them."""

    __slots__ = ("_context", "_messages", "_order", "_place", "_prod", "language", "name")

    def __init__(self, messages: tuple[str, ...], context: SuggestContext, language: str) -> None:
        self._messages = messages
        self._context = context
        self._place: str | None = None
        self._prod: str | None = None
        self._order: str | None = None
        self.language = language
        self.name = _first_name(context.name)

    @property
    def place(self) -> str:
        """ " ke Bandung" or ""."""
        if self._place is None:
            place = self._context.place
            if not place:
                m = _PLACE_RE.search(" ".join(self._messages))
                place = m.group(1) if m else ""
            self._place = (f" to {place}" if self.language == "en" else f" ke {place}") if place else ""
        return self._place

    @property
    def prod(self) -> str:
        """ "serumnya" or "produknya" ("the serum" or "the product" in English)."""
        if self._prod is None:
            product = self._context.product
            if not product:
                pattern = _PRODUCT_EN_RE if self.language == "en" else _PRODUCT_RE
                for m in pattern.finditer(" ".join(self._messages).lower()):
                    if m.group(1) not in _PRODUCT_STOP:
                        product = m.group(1)
                        break
            if self.language == "en":
                self._prod = f"the {product}" if product else "the product"
            else:
                self._prod = f"{product}nya" if product and " " not in product else (product or "produknya")
        return self._prod

    @property
    def order(self) -> str:
        """The order's id, or ""."""
        if self._order is None:
            order = self._context.order
            if not order:
                for m in _ORDER_RE.finditer(" ".join(self._messages)):
                    if any(c.isdigit() for c in m.group(1)):
                        order = m.group(1)
                        break
            self._order = order
        return self._order


# Templates name the context they need; `_fill` reads only that. `{F:label}` is a field to fill.
_MISSING: Final[dict[str, dict[str, str]]] = {
    "id": {
        "price": "Untuk harga {prod} {F:harga} ya kak.",
        "stock": "Untuk stok {prod} {F:ready/habis} ya kak.",
        "size": "Untuk ukurannya {F:ukuran yang tersedia/cocok} ya kak.",
        "shipping": "Untuk ongkir{place} {F:ongkir} ya kak.",
        "delivery": "Pesanan{order} dikirim {F:tanggal kirim} dan estimasi sampai{place} {F:estimasi sampai} ya kak.",
        "howto": "Cara pakainya: {F:langkah-langkahnya} ya kak.",
        "colour": "Warna yang tersedia {F:warna} ya kak.",
        "payment": "Pembayaran bisa lewat {F:metode pembayaran} ya kak.",
        "discount": "Untuk promonya {F:promo/diskon yang berlaku} ya kak.",
    },
    "en": {
        "price": "{Prod} is {F:price}.",
        "stock": "{Prod} is {F:in stock/sold out}.",
        "size": "The sizes available are {F:sizes}.",
        "shipping": "Shipping{place} is {F:shipping cost}.",
        "delivery": "Your order{order} ships on {F:ship date} and should arrive{place} by {F:arrival date}.",
        "howto": "Here is how to use it: {F:steps}.",
        "colour": "The colours available are {F:colours}.",
        "payment": "You can pay by {F:payment methods}.",
        "discount": "The current promotion is {F:promotion}.",
    },
}
_MISSING_OTHER: Final[dict[str, str]] = {
    "id": "{F:jawaban untuk pertanyaan kakak} ya kak.",
    "en": "{F:the answer to the question}.",
}
_ACK_NEGATIVE: Final[dict[str, dict[str, str]]] = {
    "id": {
        "stock": "Mohon maaf, {prod} sedang kosong ya kak.",
        "delivery": "Pesanan{order} belum dikirim ya kak, akan dikirim {F:tanggal kirim}.",
    },
    "en": {
        "stock": "Sorry, {prod} is sold out at the moment.",
        "delivery": "Your order{order} hasn't shipped yet; it will ship on {F:ship date}.",
    },
}
_ACK_NEGATIVE_OTHER: Final[dict[str, str]] = {
    "id": "Mohon maaf, untuk yang ini belum bisa ya kak, {F:alasan singkat/alternatif}.",
    "en": "Sorry, we can't do that one, {F:short reason/alternative}.",
}
_ACK_POSITIVE: Final[dict[str, dict[str, str]]] = {
    "id": {
        "stock": "Iya, {prod} ready ya.",
        "payment": "Iya, bisa ya kak.",
        "shipping": "Iya, bisa dikirim{place} ya.",
        "delivery": "Iya kak, pesanan{order} {F:sudah dikirim/dikirim kapan} ya.",
        "discount": "Iya kak, ada {F:promo/diskonnya} ya.",
    },
    "en": {
        "stock": "Yes, {prod} is in stock.",
        "payment": "Yes, that works.",
        "shipping": "Yes, we ship{place}.",
        "delivery": "Yes, your order{order} {F:has shipped/ships on}.",
        "discount": "Yes, there is {F:the promotion}.",
    },
}
_ACK_POSITIVE_OTHER: Final[dict[str, str]] = {
    "id": "Iya kak, {F:penjelasan singkat} ya.",
    "en": "Yes, {F:short explanation}.",
}
_ACK_OFFER: Final[dict[str, str]] = {"id": "Iya kak, ada yang bisa kami bantu?", "en": "Yes, how can we help?"}
_FIELD_RE: Final = re.compile(r"\{F:([^}]+)\}")


def _fill(template: str, ctx: _Ctx) -> str:
    if "{F:" in template:
        template = _FIELD_RE.sub(lambda m: field_mark(m.group(1)), template)
    if "{place}" in template:
        template = template.replace("{place}", ctx.place)
    if "{Prod}" in template:
        prod = ctx.prod
        template = template.replace("{Prod}", prod[:1].upper() + prod[1:])
    if "{prod}" in template:
        template = template.replace("{prod}", ctx.prod)
    if "{order}" in template:
        template = template.replace("{order}", f" {ctx.order}" if ctx.order else "")
    return template


def _missing(q: Question, ctx: _Ctx) -> str:
    return _fill(_MISSING[ctx.language].get(q.topic, _MISSING_OTHER[ctx.language]), ctx)


def _ack_sentence(q: Question, ack: str, ctx: _Ctx) -> str:
    lang = ctx.language
    if ack in _NEGATIVE:
        return _fill(_ACK_NEGATIVE[lang].get(q.topic, _ACK_NEGATIVE_OTHER[lang]), ctx)
    template = _ACK_POSITIVE[lang].get(q.topic)
    if template is None:
        return _fill(_ACK_POSITIVE_OTHER[lang], ctx) if q.content or q.wh else _ACK_OFFER[lang]
    return _fill(template, ctx)


def _kept_sentences(reply: str, drop: PhraseGroup, *, language: str = "id") -> list[str]:
    """The reply's own sentences that carry content, minus cold or template ones."""
    kept: list[str] = []
    for raw in _SENTENCE_RE.findall(reply):
        text = raw.strip(" -~*")
        if not text:
            continue
        toks = tokens_of(text.lower())
        if not toks or all(t in lx.NON_CONTENT or t in lx.INVITATION for t in toks):
            continue
        joined = " ".join(toks)
        if drop.search(joined, frozenset(toks)):
            continue
        if language == "id" and len(toks) <= 4 and not any(t in lx.HONORIFICS for t in toks):
            text += " ya kak"  # "Ori" -> "Ori ya kak."
        kept.append(text[0].upper() + text[1:] + ("" if text[-1] in ".!?" else "."))
    return kept


_WORDS: Final[dict[str, dict[str, str]]] = {
    "id": {
        "closing": "Sama-sama{kak} 🙏 Terima kasih sudah belanja di toko kami, ditunggu orderan berikutnya ya 😊",
        "salam": "Waalaikumsalam{kak} 😊",
        "hello": "Halo{kak} 😊",
        "sorry": "Mohon maaf atas ketidaknyamanannya{kak} 🙏",
        "check_order": "Pesanan {order} kami cek sekarang dan kami kabari hasilnya hari ini ya kak.",
        "ask_order": (
            "Boleh dibantu kirimkan nomor pesanan dan foto produknya? Kami cek dan kabari hasilnya hari ini ya kak."
        ),
        "thanks_info": "Baik kak, terima kasih infonya ya.",
        "until_done": "Kami bantu sampai beres ya kak 🙏",
        "order_now": "Silakan diorder 🙏",
        "ask_more": "Kalau ada yang ingin ditanyakan lagi, silakan ya kak 🙏",
    },
    "en": {
        "closing": "You're welcome{kak} 🙏 Thank you for shopping with us, we look forward to your next order 😊",
        "salam": "Waalaikumsalam{kak} 😊",
        "hello": "Hi{kak} 😊",
        "sorry": "We're so sorry about this{kak} 🙏",
        "check_order": "We're checking order {order} now and will update you today.",
        "ask_order": (
            "Could you send us your order number and a photo of the item? We'll check and get back to you today."
        ),
        "thanks_info": "Thank you for letting us know.",
        "until_done": "We'll make sure this gets sorted out 🙏",
        "order_now": "Feel free to place your order 🙏",
        "ask_more": "If you have any other questions, just let us know 🙏",
    },
}


_WORD_RE: Final = re.compile(r"[a-z']+")


def _customer_language(messages: tuple[str, ...]) -> str:
    """ "en" or "id" when the customer's words say so clearly, else ""."""
    words = _WORD_RE.findall(" ".join(messages).lower())
    if len(words) < 2:
        return ""
    english = sum(1 for w in words if w in lx.ENGLISH_HINTS)
    return "en" if english * 10 >= len(words) * 3 else "id"


def suggestion(
    *,
    reply: str,
    info: CustomerInfo,
    codes: tuple[str, ...],
    answered: tuple[tuple[Question, str], ...],
    unanswered: tuple[Question, ...],
    language: str = "id",
    context: SuggestContext | None = None,
) -> str:
    """`answered` pairs each question answered only by a bare ack with that ack word.

    A complaint's suggestion opens with an apology and ends with a concrete next step.
    """
    # The suggestion is sent to the customer, so it speaks their language; the member's (`language`)
    # only when the customer's words don't tell.
    lang = _customer_language(info.messages) or (language if language in _WORDS else "id")
    ctx = _Ctx(info.messages, context or _NO_CONTEXT, lang)
    words = _WORDS[ctx.language]
    if ctx.name:
        kak = f" kak {ctx.name}" if ctx.language == "id" else f" {ctx.name}"
    else:
        kak = " kak" if ctx.language == "id" else ""
    if info.closing:
        return words["closing"].format(kak=kak)
    cold = not _COLD_CODES.isdisjoint(codes)
    if info.complaint:
        parts = [words["sorry"].format(kak=kak)]
    elif info.salam or (context or _NO_CONTEXT).greeting_owed:
        parts = [words["salam" if info.salam else "hello"].format(kak=kak)]
    else:
        parts = []
    kept = _kept_sentences(reply, _COLD_AND_TEMPLATE if cold else _TEMPLATE_ONLY, language=ctx.language)
    if cold and not kept:
        # The cold words were the whole reply: whatever it seemed to answer still needs answering.
        answered, unanswered = (), info.questions
    for q, ack in answered:
        parts.append(_ack_sentence(q, ack, ctx))
    parts.extend(kept)
    if info.complaint:
        # "Where is my parcel?" in a complaint is answered by the next step below, not by a date to fill.
        unanswered = tuple(q for q in unanswered if q.topic != "delivery")
    parts.extend(_missing(q, ctx) for q in unanswered)
    if info.complaint:
        parts.append(words["check_order"].format(order=ctx.order) if ctx.order else words["ask_order"])
        parts.append(words["until_done"])
    else:
        if not answered and not kept and not unanswered:
            parts.append(words["thanks_info"])
        topics = {q.topic for q in info.questions}
        parts.append(words["order_now"] if topics & _SHOPPING else words["ask_more"])
    return " ".join(parts)
