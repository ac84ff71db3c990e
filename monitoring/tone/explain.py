"""Plain-word reasons for each reason code, in Indonesian and English."""

from __future__ import annotations

from typing import Final

TOPIC_NAMES: Final[dict[str, dict[str, str]]] = {
    "id": {
        "price": "harga",
        "stock": "stok",
        "size": "ukuran",
        "shipping": "ongkir/pengiriman",
        "delivery": "waktu kirim atau status pesanan",
        "howto": "cara pakai/cara order",
        "colour": "warna",
        "payment": "pembayaran",
        "discount": "promo/diskon",
    },
    "en": {
        "price": "price",
        "stock": "stock",
        "size": "size",
        "shipping": "shipping",
        "delivery": "delivery time or order status",
        "howto": "how to use or order",
        "colour": "colour",
        "payment": "payment",
        "discount": "discounts",
    },
}
_PARTS: Final[dict[str, dict[int, str]]] = {
    "id": {2: "dua", 3: "tiga", 4: "empat", 5: "lima"},
    "en": {2: "two", 3: "three", 4: "four", 5: "five"},
}
_TEXT: Final[dict[str, dict[str, str]]] = {
    "id": {
        "empty_reply": "balasan kosong",
        "bare_ack": "hanya '{ack}' tanpa kehangatan",
        "bare_ack_multi": "hanya '{ack}' untuk pertanyaan {parts} bagian",
        "emoji_only": "hanya emoji, tanpa kata-kata",
        "no_warmth": "tanpa sapaan atau 'kak'",
        "too_short": "terlalu singkat dibanding pesan pelanggan",
        "half_answered": "hanya sebagian pertanyaan yang dijawab",
        "question_unanswered": "pertanyaan soal {topic} tidak dijawab",
        "question_unanswered:general": "pertanyaan pelanggan tidak dijawab",
        "template_ignores_question": "balasan template/otomatis tidak menjawab pertanyaan",
        "greeting_only": "hanya salam, pertanyaannya tidak dijawab",
        "blames_customer": "menyalahkan pelanggan",
        "lecturing": "menggurui pelanggan (mis. 'baca deskripsi', 'kan sudah dibilang')",
        "dismissive": "nada ketus atau menyepelekan pelanggan",
        "cold_emoji": "emoji yang terkesan kesal",
        "redirect_only": "hanya menyuruh melihat sendiri (size chart, deskripsi), pertanyaannya tidak dijawab",
        "complaint_no_apology": "keluhan dijawab tanpa permintaan maaf atau empati",
        "safety_flat": "pertanyaan soal keamanan/alergi dijawab datar tanpa penjelasan",
        "cold_tone": "nada dingin atau kaku untuk pesan pelanggan ini",
    },
    "en": {
        "empty_reply": "the reply is empty",
        "bare_ack": "only '{ack}', with no warmth",
        "bare_ack_multi": "only '{ack}' to a {parts}-part question",
        "emoji_only": "emoji only, no words",
        "no_warmth": "no greeting or 'kak'",
        "too_short": "too short for what the customer wrote",
        "half_answered": "only part of the question is answered",
        "question_unanswered": "the question about {topic} is not answered",
        "question_unanswered:general": "the customer's question is not answered",
        "template_ignores_question": "a template or auto-reply that ignores the question",
        "greeting_only": "only a greeting; the question is not answered",
        "blames_customer": "blames the customer",
        "lecturing": "lectures the customer (e.g. 'read the description')",
        "dismissive": "dismissive or curt tone",
        "cold_emoji": "an annoyed-looking emoji",
        "redirect_only": "only tells the customer to look it up; the question is not answered",
        "complaint_no_apology": "a complaint answered with no apology or empathy",
        "safety_flat": "a safety or allergy question answered flatly, with no explanation",
        "cold_tone": "a cold or stiff tone for what the customer wrote",
    },
}


# Every reason with nothing to fill in, worded once.
_FIXED: Final[dict[str, dict[str, str]]] = {
    language: {code: text for code, text in texts.items() if "{" not in text}
    | {
        f"question_unanswered:{topic}": texts["question_unanswered"].format(topic=name)
        for topic, name in TOPIC_NAMES[language].items()
    }
    for language, texts in _TEXT.items()
}


def reason(code: str, language: str, *, ack: str = "", parts: int = 0) -> str:
    fixed = _FIXED[language].get(code)
    if fixed is not None:
        return fixed
    texts = _TEXT[language]
    if code == "bare_ack" and parts >= 2:
        return texts["bare_ack_multi"].format(ack=ack, parts=_PARTS[language].get(parts, str(parts)))
    if code in texts:
        return texts[code].format(ack=ack)
    if code.startswith("question_unanswered:"):
        topic = code.split(":", 1)[1]
        return texts["question_unanswered"].format(topic=TOPIC_NAMES[language].get(topic, topic))
    return code
