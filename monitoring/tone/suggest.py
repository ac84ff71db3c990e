"""A warmer Indonesian rewrite: keep what the admin said, add what is missing as [placeholders]."""

from __future__ import annotations

import re
from typing import Final, NamedTuple

from monitoring.tone import lexicon as lx
from monitoring.tone.features import CustomerInfo, Question
from monitoring.tone.normalize import tokens_of

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
_TEMPLATE_ONLY: Final = (lx.TEMPLATE_RE,)
_COLD_AND_TEMPLATE: Final = (lx.TEMPLATE_RE, lx.BLAME_RE, lx.LECTURE_RE, lx.DISMISS_RE, lx.PATIENCE_RE, lx.DONT_KNOW_RE)
_NEGATIVE: Final = frozenset({"tidak", "belum", "no", "habis", "kosong", "maaf", "sorry"})
_SHOPPING: Final = frozenset({"price", "stock", "size", "colour", "discount", "payment", "shipping"})


class _Ctx(NamedTuple):
    place: str  # " ke Bandung" or ""
    prod: str  # "serumnya" or "produknya"


def _context(messages: tuple[str, ...]) -> _Ctx:
    raw = " ".join(messages)
    place_m = _PLACE_RE.search(raw)
    product = ""
    for m in _PRODUCT_RE.finditer(raw.lower()):
        if m.group(1) not in _PRODUCT_STOP:
            product = m.group(1)
            break
    return _Ctx(f" ke {place_m.group(1)}" if place_m else "", f"{product}nya" if product else "produknya")


def _missing(q: Question, ctx: _Ctx) -> str:
    place, prod = ctx.place, ctx.prod
    return {
        "price": f"Untuk harga {prod} [harga] ya kak.",
        "stock": f"Untuk stok {prod} [ready/habis] ya kak.",
        "size": "Untuk ukurannya [ukuran yang tersedia/cocok] ya kak.",
        "shipping": f"Untuk ongkir{place} [ongkir] ya kak.",
        "delivery": f"Estimasi pengiriman{place} [tanggal kirim/estimasi sampai, resi] ya kak.",
        "howto": "Cara pakainya: [langkah-langkahnya] ya kak.",
        "colour": "Warna yang tersedia [warna] ya kak.",
        "payment": "Pembayaran bisa lewat [metode pembayaran] ya kak.",
        "discount": "Untuk promonya [promo/diskon yang berlaku] ya kak.",
    }.get(q.topic, "[jawaban untuk pertanyaan kakak] ya kak.")


def _ack_sentence(q: Question, ack: str, ctx: _Ctx) -> str:
    place, prod = ctx.place, ctx.prod
    if ack in _NEGATIVE:
        return {
            "stock": f"Mohon maaf, {prod} sedang kosong ya kak.",
            "delivery": "Pesanannya belum dikirim ya kak, [kapan dikirim].",
        }.get(q.topic, "Mohon maaf, untuk yang ini belum bisa ya kak [alasan singkat/alternatif].")
    return {
        "stock": f"Iya, {prod} ready ya.",
        "payment": "Iya, bisa ya kak.",
        "shipping": f"Iya, bisa dikirim{place} ya.",
        "delivery": "Iya kak, pesanannya [sudah dikirim/dikirim kapan] ya.",
        "discount": "Iya kak, ada [promo/diskonnya] ya.",
    }.get(q.topic, "Iya kak, [penjelasan singkat] ya." if q.content or q.wh else "Iya kak, ada yang bisa kami bantu?")


def _kept_sentences(reply: str, drop_re: tuple[re.Pattern[str], ...]) -> list[str]:
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
        if any(r.search(joined) for r in drop_re):
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
    cold = any(c in codes for c in ("blames_customer", "lecturing", "dismissive", "cold_emoji"))
    parts = ["Waalaikumsalam kak 😊" if info.salam else "Halo kak 😊"]
    if info.complaint:
        parts.append("Mohon maaf atas ketidaknyamanannya ya kak 🙏")
    kept = _kept_sentences(reply, _COLD_AND_TEMPLATE if cold else _TEMPLATE_ONLY)
    if cold and not kept:
        # The cold words were the whole reply: whatever it seemed to answer still needs answering.
        answered, unanswered = (), info.questions
    ctx = _context(info.messages) if answered or unanswered else _Ctx("", "produknya")
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
