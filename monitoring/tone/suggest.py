"""A warmer Indonesian rewrite: keep what the admin said, add what is missing as [placeholders]."""

from __future__ import annotations

import re
from typing import Final

from monitoring.tone import lexicon as lx
from monitoring.tone.features import CustomerInfo, Question
from monitoring.tone.normalize import tokens_of
from monitoring.tone.phrases import PhraseGroup

# A sentence ends at . ! ? a line break or an emoji, but not at the dot of "Rp52.000".
_SENTENCE_RE: Final = re.compile("(?:[^.!?\n\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff]|(?<=\\d)[.,](?=\\d))+")
_PLACE_RE: Final = re.compile(r"\b(?:ke|to|kirim|ship)\s+([A-Z][a-zA-Z]+(?:\s[A-Z][a-zA-Z]+)?)")
_PRODUCT_RE: Final = re.compile(r"\b([a-z]{3,})\s+(?:ini|itu)\b")
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


class _Ctx:
    """Where the customer wants it sent and what product they mean, read from their messages when a
    sentence first needs them: most suggestions need neither."""

    __slots__ = ("_messages", "_place", "_prod")

    def __init__(self, messages: tuple[str, ...]) -> None:
        self._messages = messages
        self._place: str | None = None
        self._prod: str | None = None

    @property
    def place(self) -> str:
        """ " ke Bandung" or ""."""
        if self._place is None:
            m = _PLACE_RE.search(" ".join(self._messages))
            self._place = f" ke {m.group(1)}" if m else ""
        return self._place

    @property
    def prod(self) -> str:
        """ "serumnya" or "produknya"."""
        if self._prod is None:
            product = ""
            for m in _PRODUCT_RE.finditer(" ".join(self._messages).lower()):
                if m.group(1) not in _PRODUCT_STOP:
                    product = m.group(1)
                    break
            self._prod = f"{product}nya" if product else "produknya"
        return self._prod


# Templates name the context they need; `_fill` reads only that.
_MISSING: Final[dict[str, str]] = {
    "price": "Untuk harga {prod} [harga] ya kak.",
    "stock": "Untuk stok {prod} [ready/habis] ya kak.",
    "size": "Untuk ukurannya [ukuran yang tersedia/cocok] ya kak.",
    "shipping": "Untuk ongkir{place} [ongkir] ya kak.",
    "delivery": "Estimasi pengiriman{place} [tanggal kirim/estimasi sampai, resi] ya kak.",
    "howto": "Cara pakainya: [langkah-langkahnya] ya kak.",
    "colour": "Warna yang tersedia [warna] ya kak.",
    "payment": "Pembayaran bisa lewat [metode pembayaran] ya kak.",
    "discount": "Untuk promonya [promo/diskon yang berlaku] ya kak.",
}
_MISSING_OTHER: Final = "[jawaban untuk pertanyaan kakak] ya kak."
_ACK_NEGATIVE: Final[dict[str, str]] = {
    "stock": "Mohon maaf, {prod} sedang kosong ya kak.",
    "delivery": "Pesanannya belum dikirim ya kak, [kapan dikirim].",
}
_ACK_NEGATIVE_OTHER: Final = "Mohon maaf, untuk yang ini belum bisa ya kak [alasan singkat/alternatif]."
_ACK_POSITIVE: Final[dict[str, str]] = {
    "stock": "Iya, {prod} ready ya.",
    "payment": "Iya, bisa ya kak.",
    "shipping": "Iya, bisa dikirim{place} ya.",
    "delivery": "Iya kak, pesanannya [sudah dikirim/dikirim kapan] ya.",
    "discount": "Iya kak, ada [promo/diskonnya] ya.",
}


def _fill(template: str, ctx: _Ctx) -> str:
    if "{place}" in template:
        template = template.replace("{place}", ctx.place)
    if "{prod}" in template:
        template = template.replace("{prod}", ctx.prod)
    return template


def _missing(q: Question, ctx: _Ctx) -> str:
    return _fill(_MISSING.get(q.topic, _MISSING_OTHER), ctx)


def _ack_sentence(q: Question, ack: str, ctx: _Ctx) -> str:
    if ack in _NEGATIVE:
        return _fill(_ACK_NEGATIVE.get(q.topic, _ACK_NEGATIVE_OTHER), ctx)
    template = _ACK_POSITIVE.get(q.topic)
    if template is None:
        return "Iya kak, [penjelasan singkat] ya." if q.content or q.wh else "Iya kak, ada yang bisa kami bantu?"
    return _fill(template, ctx)


def _kept_sentences(reply: str, drop: PhraseGroup) -> list[str]:
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
        if len(toks) <= 4 and not any(t in lx.HONORIFICS for t in toks):
            text += " ya kak"  # "Ori" -> "Ori ya kak."
        kept.append(text[0].upper() + text[1:] + ("" if text[-1] in ".!?" else "."))
    return kept


def suggestion(
    *,
    reply: str,
    info: CustomerInfo,
    codes: tuple[str, ...],
    answered: tuple[tuple[Question, str], ...],
    unanswered: tuple[Question, ...],
) -> str:
    """`answered` pairs each question answered only by a bare ack with that ack word."""
    if info.closing:
        return "Sama-sama kak 🙏 Terima kasih sudah belanja di toko kami, ditunggu orderan berikutnya ya 😊"
    cold = not _COLD_CODES.isdisjoint(codes)
    parts = ["Waalaikumsalam kak 😊" if info.salam else "Halo kak 😊"]
    if info.complaint:
        parts.append("Mohon maaf atas ketidaknyamanannya ya kak 🙏")
    kept = _kept_sentences(reply, _COLD_AND_TEMPLATE if cold else _TEMPLATE_ONLY)
    if cold and not kept:
        # The cold words were the whole reply: whatever it seemed to answer still needs answering.
        answered, unanswered = (), info.questions
    ctx = _Ctx(info.messages)
    for q, ack in answered:
        parts.append(_ack_sentence(q, ack, ctx))
    parts.extend(kept)
    parts.extend(_missing(q, ctx) for q in unanswered)
    if not answered and not kept and not unanswered:
        if info.complaint:
            parts.append("Boleh dibantu kirimkan [nomor pesanan/foto] supaya bisa kami cek dan bantu ya kak?")
        else:
            parts.append("Baik kak, terima kasih infonya ya.")
    topics = {q.topic for q in info.questions}
    if info.complaint:
        parts.append("Kami bantu sampai beres ya kak 🙏")
    elif topics & _SHOPPING:
        parts.append("Silakan diorder 🙏")
    else:
        parts.append("Kalau ada yang ingin ditanyakan lagi, silakan ya kak 🙏")
    return " ".join(parts)
