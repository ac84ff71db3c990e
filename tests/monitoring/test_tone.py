"""The terse judge, rule by rule: bare acks, emoji, unanswered questions, templates, cold tone, warmth."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from monitoring.tone import ToneVerdict, judge
from monitoring.tone.normalize import canon, normalize

SERUM = ["Kak, serum ini ready?", "ongkir ke Bandung berapa?"]


# --- bare acknowledgements and emoji -----------------------------------------------------------------
@pytest.mark.parametrize("reply", ["iya", "iy", "iyaaa", "ok", "oke", "ok kk", "y", "sip", "gpp", "ready", "Iyh."])
def test_bare_ack_to_a_question_is_terse(reply: str) -> None:
    v = judge(customer="kak yang warna hitam masih ready?", reply=reply)
    assert v.terse
    assert "bare_ack" in v.codes
    assert v.score >= 0.5


def test_bare_ack_to_a_statement_is_terse() -> None:
    v = judge(customer="kak udah transfer ya", reply="ok")
    assert v.terse and v.codes == ("bare_ack",)


def test_honorific_and_warmth_turn_the_same_ack_into_an_answer() -> None:
    assert not judge(customer="kak yang hitam ready?", reply="ready kak 😊").terse
    assert not judge(customer="kak yang hitam ready?", reply="Ready ya kak, silakan diorder").terse


@pytest.mark.parametrize("reply", ["👍", "🙂", "😊😊", ":)"])
def test_emoji_only_reply_to_a_question_is_terse(reply: str) -> None:
    v = judge(customer="kak bisa cod?", reply=reply)
    assert v.terse
    assert "emoji_only" in v.codes


def test_friendly_emoji_to_a_thank_you_is_enough() -> None:
    assert not judge(customer="makasih ya kak udah dibantu", reply="🙏").terse


def test_short_answer_without_any_warmth_is_terse() -> None:
    v = judge(customer="harganya brp kak", reply="85rb")
    assert v.terse
    assert v.codes == ("no_warmth", "too_short")
    assert "tanpa sapaan atau 'kak'" in v.reasons


# --- questions: detected, and answered or not ----------------------------------------------------------
def test_unanswered_price_question() -> None:
    v = judge(customer="kak harganya berapa?", reply="Ready kak 😊 silakan diorder")
    assert v.terse
    assert "question_unanswered:price" in v.codes
    assert "pertanyaan soal harga tidak dijawab" in v.reasons
    assert "[[harga]]" in v.suggestion


def test_answered_price_question() -> None:
    assert not judge(customer="kak harganya berapa?", reply="Harganya Rp85.000 kak 😊").terse
    assert not judge(customer="brp kak", reply="85rb aja kak 😊").terse


def test_unanswered_stock_question() -> None:
    v = judge(customer="kak stoknya masih ada?", reply="Halo kak 😊 terima kasih sudah mampir")
    assert v.terse
    assert "question_unanswered:stock" in v.codes


def test_unanswered_shipping_question() -> None:
    v = judge(customer="ongkir ke Surabaya berapa kak?", reply="Siap kak, silakan checkout 😊")
    assert v.terse
    assert "question_unanswered:shipping" in v.codes
    assert "Untuk ongkir ke Surabaya [[ongkir]] ya kak." in v.suggestion


def test_shipping_question_answered_with_cost() -> None:
    v = judge(customer="ongkir ke Surabaya berapa kak?", reply="Ongkir ke Surabaya Rp18.000 via JNE kak 😊")
    assert not v.terse


def test_unanswered_size_question_needs_a_number() -> None:
    v = judge(customer="kak ukuran L lingkar dadanya berapa?", reply="Ready kak 😊 silakan diorder")
    assert v.terse
    assert "question_unanswered:size" in v.codes
    assert not judge(customer="kak ukuran L lingkar dadanya berapa?", reply="Lingkar dada L 104 cm kak 😊").terse


def test_delivery_time_question() -> None:
    customer = "kak kalau order hari ini kira2 sampai Surabaya berapa hari ya?"
    assert "question_unanswered:delivery" in judge(customer=customer, reply="Siap kak 😊 ditunggu ordernya").codes
    assert not judge(customer=customer, reply="Estimasi 2-3 hari kak pakai JNE REG 😊").terse


def test_two_part_question_answered_with_one_iya_is_half_answered() -> None:
    v = judge(customer=SERUM, reply="iya")
    assert v.terse
    assert v.codes == ("bare_ack", "question_unanswered:shipping", "half_answered")
    assert v.reasons[0] == "hanya 'iya' untuk pertanyaan dua bagian"
    assert "pertanyaan soal ongkir/pengiriman tidak dijawab" in v.reasons


def test_two_part_question_with_warm_partial_answer_is_still_half_answered() -> None:
    v = judge(customer=SERUM, reply="Ready kak 😊")
    assert v.terse
    assert "half_answered" in v.codes and "question_unanswered:shipping" in v.codes


def test_two_part_question_fully_answered_is_fine() -> None:
    v = judge(customer=SERUM, reply="Ready kak 😊 ongkir ke Bandung Rp12.000 pakai JNE ya. Silakan diorder 🙏")
    assert not v.terse
    assert v.codes == () and v.reasons == () and v.suggestion == ""


def test_template_that_ignores_the_question() -> None:
    reply = (
        "Halo kak, terima kasih telah menghubungi Glow Beauty 😊 Jam operasional kami Senin-Sabtu 08.00-21.00. "
        "Pesanan akan diproses maksimal 1x24 jam."
    )
    v = judge(customer="Halo kak, mau tanya ongkir ke Medan berapa ya?", reply=reply)
    assert v.terse
    assert "template_ignores_question" in v.codes
    assert "question_unanswered:shipping" in v.codes


def test_greeting_only_reply_to_a_question() -> None:
    v = judge(customer="kak kalau transfer ke rekening mana?", reply="Halo kak 😊")
    assert v.terse
    assert "greeting_only" in v.codes and "question_unanswered:payment" in v.codes


def test_template_greeting_is_fine_when_the_customer_only_said_hello() -> None:
    assert not judge(customer="Halo kak", reply="Halo kak 😊 ada yang bisa kami bantu?").terse


def test_warm_holding_reply_addresses_the_question_for_now() -> None:
    v = judge(customer="kak ongkir ke Medan berapa?", reply="Mohon ditunggu sebentar ya kak, kami cek dulu 🙏")
    assert not v.terse
    assert judge(customer="kak ongkir ke Medan berapa?", reply="bentar").terse


# --- cold, defensive, lecturing: at any length ------------------------------------------------------------
@pytest.mark.parametrize(
    "reply",
    ["bukan salah kami, itu dari kurir", "salah kakak sendiri ga cek dulu", "berarti penyimpanannya salah"],
)
def test_blaming_is_terse(reply: str) -> None:
    v = judge(customer="kak barang saya datang rusak", reply=reply)
    assert v.terse
    assert "blames_customer" in v.codes
    assert "menyalahkan pelanggan" in v.reasons


def test_blaming_wrapped_in_politeness_is_still_terse() -> None:
    reply = "Mohon maaf kak 🙏 tapi itu salah kakak sendiri karena tidak cek ukuran dulu sebelum checkout ya"
    v = judge(customer="kak bajunya kekecilan, bisa tukar?", reply=reply)
    assert v.terse and "blames_customer" in v.codes


def test_lecturing_at_length_is_terse() -> None:
    reply = (
        "Kak, cara klaim garansi sudah kami jelaskan lengkap di deskripsi produk dan di kartu garansi yang ada di "
        "dalam box. Semua langkahnya sudah ditulis step by step, jadi tolong dibaca dulu ya sebelum bertanya, "
        "karena pertanyaan yang sama sudah kami jawab berkali-kali."
    )
    v = judge(customer="kak ini gimana sih cara klaim garansinya? bingung", reply=reply)
    assert len(reply.split()) > 40
    assert v.terse
    assert "lecturing" in v.codes
    assert "baca" not in v.suggestion.lower() and "berkali" not in v.suggestion


@pytest.mark.parametrize(
    "reply",
    ["baca deskripsi dong", "kan sudah dibilang", "sudah ada di deskripsi", "makanya baca", "jangan nanya terus"],
)
def test_lecturing_phrases(reply: str) -> None:
    v = judge(customer="kak ini bahannya apa?", reply=reply)
    assert v.terse and "lecturing" in v.codes


@pytest.mark.parametrize("reply", ["terserah", "ya itu urusan kurir", "kalau ga percaya ga usah beli", "sabar"])
def test_dismissive_phrases(reply: str) -> None:
    v = judge(customer="kak paket saya kok belum sampai?", reply=reply)
    assert v.terse and "dismissive" in v.codes


def test_cold_reply_to_a_closing_is_still_terse() -> None:
    assert judge(customer="ok makasih", reply="lain kali baca deskripsi dulu ya").terse


# --- warm, proportionate replies are not flagged ------------------------------------------------------------
@pytest.mark.parametrize(
    ("customer", "reply"),
    [
        ("kak ready?", "Ready kak 😊 silakan diorder"),
        ("makasih kak", "sama-sama kak 🙏"),
        ("resinya mana kak?", "Siap kak, sudah kami kirim hari ini ya, resi JNE 1234"),
        ("sis ready ukuran 38?", "ready sis 🥰"),
        ("kak ada warna pink?", "Ada kak 🥰"),
        ("kak bisa cod?", "bisa kak, silakan checkout pilih COD ya 😊"),
        ("kak barang saya datang rusak", "Mohon maaf banget kak 🙏 boleh kirim video unboxingnya? kami ganti ya"),
        ("kak paket saya kok belum sampai?", "Mohon maaf kak 🙏 paketnya masih di gudang JNE, estimasi besok ya"),
    ],
)
def test_warm_short_replies_are_not_terse(customer: str, reply: str) -> None:
    v = judge(customer=customer, reply=reply)
    assert not v.terse, v.codes
    assert v.score < 0.5 and v.suggestion == "" and v.codes == () and v.reasons == ()


@pytest.mark.parametrize(
    ("customer", "reply"),
    [("ok sip kak", "sip"), ("ok kak", "🙏"), ("ok makasih", "sama2 kak 😊"), ("oke deh kak", "oke kak 😊")],
)
def test_a_plain_closing_is_answered_in_kind(customer: str, reply: str) -> None:
    assert not judge(customer=customer, reply=reply).terse


@pytest.mark.parametrize(("customer", "reply"), [("ok makasih", "ok"), ("oke kak makasih", "y"), ("mksh min", "k")])
def test_a_bare_token_to_a_thank_you_is_terse(customer: str, reply: str) -> None:
    # Issue 16: the customer gave thanks and got nothing back.
    v = judge(customer=customer, reply=reply)
    assert v.terse and "bare_ack" in v.codes


def test_effusive_thanks_is_not_a_plain_closing() -> None:
    assert judge(customer="kak barangnya udah sampai, bagus banget makasih ya 😍", reply="ok").terse


# --- English --------------------------------------------------------------------------------------------------
def test_english_bare_yes_is_terse() -> None:
    v = judge(customer="Hi, is this jacket available in size M?", reply="yes")
    assert v.terse and "bare_ack" in v.codes


def test_english_lecturing_and_blaming() -> None:
    assert "lecturing" in judge(customer="is it original?", reply="read the description").codes
    assert "lecturing" in judge(customer="can you ship today?", reply="as I said, orders ship the same day").codes
    v = judge(customer="I ordered a week ago and it still hasn't arrived", reply="not our problem, ask the courier")
    assert v.terse and "blames_customer" in v.codes


def test_english_warm_answer_is_fine() -> None:
    v = judge(
        customer="how much is shipping to Jakarta?", reply="Hi! Shipping to Jakarta is about Rp15.000 with J&T 😊"
    )
    assert not v.terse


def test_english_reasons() -> None:
    v = judge(customer=SERUM, reply="iya", language="en")
    assert v.reasons == (
        "only 'iya' to a two-part question",
        "the question about shipping is not answered",
        "only part of the question is answered",
    )
    assert judge(customer="harga?", reply="85rb", language="en").reasons == (
        "no greeting or 'kak'",
        "too short for what the customer wrote",
    )
    assert "blames the customer" in judge(customer="x", reply="bukan salah kami", language="en").reasons
    # The suggestion is always an Indonesian reply the admin can send.
    assert judge(customer=SERUM, reply="iya", language="en").suggestion.startswith("Halo kak")


# --- suggestion -------------------------------------------------------------------------------------------------
def test_suggestion_keeps_the_answer_and_adds_what_is_missing() -> None:
    v = judge(customer=SERUM, reply="iya")
    assert (
        v.suggestion
        == "Halo kak 😊 Iya, serumnya ready ya. Untuk ongkir ke Bandung [[ongkir]] ya kak. Silakan diorder 🙏"
    )


def test_suggestion_keeps_the_admins_content() -> None:
    v = judge(
        customer=["Kak, ongkir ke Makassar berapa? sama berapa lama sampainya?"],
        reply="Ongkir ke Makassar Rp52.000 kak",
    )
    assert v.terse
    assert "Ongkir ke Makassar Rp52.000 kak." in v.suggestion
    assert "Mohon maaf" not in v.suggestion  # a plain question is not a complaint
    assert "dikirim [[tanggal kirim]] dan estimasi sampai ke Makassar [[estimasi sampai]]" in v.suggestion


def test_suggestion_for_a_complaint_apologises_and_drops_the_blame() -> None:
    v = judge(customer="kak barang saya datang rusak, botolnya pecah", reply="bukan salah kami, itu dari kurir")
    assert "Mohon maaf" in v.suggestion
    assert "salah" not in v.suggestion


def test_suggestion_answers_a_salam() -> None:
    v = judge(customer="Assalamualaikum kak, gamis sage masih ada ukuran XL?", reply="ada")
    assert v.suggestion.startswith("Waalaikumsalam kak")


# --- normalization ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("iyaaa", ("iya",)),
        ("iy", ("iya",)),
        ("iyh", ("iya",)),
        ("okk", ("oke",)),
        ("okey", ("oke",)),
        ("kakk", ("kak",)),
        ("ka", ("kak",)),
        ("gpp", ("gapapa",)),
        ("brp", ("berapa",)),
        ("udh", ("sudah",)),
        ("mksh", ("makasih",)),
        ("blm", ("belum",)),
        ("bs", ("bisa",)),
        ("sy", ("saya",)),
        ("nggak", ("tidak",)),
        ("yg", ("yang",)),
        ("dgn", ("dengan",)),
        ("utk", ("untuk",)),
        ("harganya", ("harga",)),
        ("sama2", ("sama", "sama")),
        ("gatau", ("tidak", "tahu")),
        ("wkwkwk", ("hehe",)),
        ("siaaap", ("siap",)),
        ("maaf", ("maaf",)),
    ],
)
def test_canonical_tokens(raw: str, expected: tuple[str, ...]) -> None:
    assert canon(raw) == expected


def test_normalize_extracts_emoji_numbers_and_clauses() -> None:
    n = normalize("Halo KAK 😊 Iya, harganya Rp45.000 ya?? ❤️")
    assert n.emojis == ("😊", "❤")
    assert n.tokens == ("halo", "kak", "iya", "harga", "rp45000", "ya")
    assert [c.asks for c in n.clauses] == [False, False, True]
    assert normalize("It's in the description").text == "its in the description"
    assert normalize("kirim pakai J&T").tokens[-1] == "jnt"


def test_slang_and_spelling_do_not_change_the_verdict() -> None:
    a = judge(customer="kak harganya berapa? udah ready?", reply="iya")
    b = judge(customer="KAK HRGNYA BRP??? UDH READYYY?", reply="iyaaa")
    assert a.terse and b.terse
    assert a.codes == b.codes


# --- interface -----------------------------------------------------------------------------------------------------
def test_verdict_shape() -> None:
    v = judge(customer=SERUM, reply="iya")
    assert isinstance(v, ToneVerdict)
    assert isinstance(v.reasons, tuple) and isinstance(v.codes, tuple)
    assert 0.0 <= v.score <= 1.0
    assert len(v.reasons) == len(v.codes)
    assert set(v.as_dict()) == {"terse", "score", "reasons", "suggestion", "codes"}
    with pytest.raises(AttributeError):
        v.terse = False  # type: ignore[misc]


def test_customer_may_be_a_string_a_list_or_nothing() -> None:
    assert judge(customer="kak ready?", reply="iya") == judge(customer=["kak ready?"], reply="iya")
    assert judge(customer=None, reply="Halo kak 😊").terse is False
    assert judge(customer=[], reply="ok").terse is True


def test_empty_reply_is_terse() -> None:
    v = judge(customer="kak?", reply="   ")
    assert v.terse and v.codes == ("empty_reply",)


def test_bad_arguments_are_rejected() -> None:
    with pytest.raises(ValueError, match="language"):
        judge(customer="x", reply="y", language="fr")
    with pytest.raises(TypeError, match="reply"):
        judge(customer="x", reply=None)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="customer"):
        judge(customer=["ok", 3], reply="y")  # type: ignore[list-item]


_DETERMINISM_SCRIPT = """
import json, sys
from monitoring.tone import judge
from monitoring.tone.evaluate import load
print(json.dumps([judge(customer=r["customer"], reply=r["reply"], language=lang).as_dict()
                  for r in load() for lang in ("id", "en")], ensure_ascii=False))
"""


def test_deterministic_within_and_across_processes() -> None:
    assert judge(customer=SERUM, reply="iya") == judge(customer=SERUM, reply="iya")
    root = Path(__file__).resolve().parents[2]
    outputs = []
    for seed in ("1", "4242"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(root)}
        done = subprocess.run(
            [sys.executable, "-c", _DETERMINISM_SCRIPT], capture_output=True, text=True, env=env, cwd=root, check=True
        )
        outputs.append(json.loads(done.stdout))
    assert outputs[0] == outputs[1]
    assert len(outputs[0]) > 300


def test_canon_of_a_delimiter_does_not_change_how_text_splits() -> None:
    canon(".")
    canon("?")
    n = normalize("iya kak. ready?")
    assert [c.tokens for c in n.clauses] == [("iya", "kak"), ("ready",)]
    assert n.clauses[1].asks


# --- the kinds issue 16 lists (hand examples, none of them a labelled pair) -------------------------------------
ISSUE_16_CURT = [
    pytest.param(["makasih ya kak, udah nyampe dengan selamat"], "ok", id="bare-ok-to-thanks"),
    pytest.param(["aku transfer sekarang ya"], "k", id="bare-k-to-paying-now"),
    pytest.param(["thanks a lot, love it!"], "k", id="bare-k-to-thanks-en"),
    pytest.param(
        ["kak sudah saya bayar, kapan dikirim ya?"],
        "Pembayaran sudah kami terima. Barang dikirim sesuai antrean.",
        id="cold-complete-sentences",
    ),
    pytest.param(
        ["Hi, did my payment go through?"], "Payment confirmed. Shipping follows the queue.", id="cold-complete-en"
    ),
    pytest.param(
        ["kak aku lingkar pinggang 72, muat ukuran S ga?"], "Cek size chart di foto terakhir.", id="redirect-fit"
    ),
    pytest.param(["is the linen thick or see-through?"], "See the product description.", id="redirect-fabric-en"),
    pytest.param(
        ["kak tasnya sobek di jahitan"],
        "Itu karena kakak isi terlalu berat, tas kami kuat kok.",
        id="blames-for-defect",
    ),
    pytest.param(["the blender jar cracked on day two"], "You must have put boiling water in it.", id="blames-en"),
    pytest.param(
        ["kak sepatu yang datang dua-duanya kiri"],
        "Halo kak! Terima kasih sudah menghubungi Toko Sepatu Kita 😊 Ada yang bisa kami bantu?",
        id="greeting-template-ignores-problem",
    ),
    pytest.param(
        ["my order came without the charger"],
        "Hi! Thanks for reaching out 👋 How can we help you today?",
        id="canned-message-ignores-problem-en",
    ),
    pytest.param(
        ["kak kemejanya bolong padahal baru dateng"],
        "Terima kasih atas masukannya kak. Semua produk kami melewati pengecekan kualitas sebelum dikirim dan kami "
        "selalu berusaha memberikan yang terbaik bagi pelanggan.",
        id="long-deflection",
    ),
    pytest.param(
        ["The parcel was soaked and the book inside is ruined"],
        "Thank you for your message. Packages are handled by third-party couriers once they leave our warehouse. "
        "We always strive to provide the best service to our customers.",
        id="long-deflection-en",
    ),
    pytest.param(
        ["kak lotion ini ada wanginya? aku alergi parfum. aman buat bayi juga?"], "Aman buat bayi.", id="flat-allergy"
    ),
    pytest.param(["Is this safe for my toddler? He's allergic to dairy"], "Yes.", id="flat-allergy-en"),
]
ISSUE_16_WARM = [
    pytest.param(["kak bayarnya nanti malem gpp kan?"], "gpp kak, ditunggu ya 😊", id="slang-warm"),
    pytest.param(
        ["kak aku ambil besok aja ya, lg di luar kota wkwk"],
        "siap kak, kami simpenin sampe besok ya 😊",
        id="slang-warm-2",
    ),
    pytest.param(["can i pay tmrw instead lol"], "sure thing, we'll hold it till tomorrow 😊", id="slang-warm-en"),
    pytest.param(["ok thank you, I'll check out later"], "Great, thanks! 😊", id="proportionate-closing-en"),
    pytest.param(["makasih kak infonya"], "sama-sama kak 😊", id="proportionate-closing"),
    pytest.param(
        ["kak yang abu ready?", "ongkir ke Depok berapa?"],
        "Ready kak yang abu 😊\nOngkir ke Depok Rp10.000 ya kak",
        id="second-question-answered-in-the-next-message",
    ),
    pytest.param(
        ["Is the blue one in stock? How long is delivery to Bandung?"],
        "Yes, blue is in stock 😊\nDelivery to Bandung takes 2 days.",
        id="second-question-answered-in-the-next-message-en",
    ),
]


def _labelled_pairs() -> set[tuple[tuple[str, ...], str]]:
    from monitoring.tone.split import load_pool

    return {(tuple(r["customer"]), r["reply"]) for r in load_pool()}


@pytest.mark.parametrize(("customer", "reply"), ISSUE_16_CURT)
def test_issue_16_curt_kinds_are_terse(customer: list[str], reply: str) -> None:
    assert (tuple(customer), reply) not in _labelled_pairs()
    v = judge(customer=customer, reply=reply)
    assert v.terse, v.score
    assert v.codes and len(v.codes) == len(v.reasons)


@pytest.mark.parametrize(("customer", "reply"), ISSUE_16_WARM)
def test_issue_16_warm_kinds_are_not_flagged(customer: list[str], reply: str) -> None:
    assert (tuple(customer), reply) not in _labelled_pairs()
    v = judge(customer=customer, reply=reply)
    assert not v.terse, v.codes
    assert v.codes == () and v.reasons == () and v.suggestion == ""


def test_a_flat_answer_to_an_allergy_question_names_the_reason() -> None:
    v = judge(customer="kak lotion ini ada wanginya? aku alergi parfum. aman buat bayi juga?", reply="Aman buat bayi.")
    assert "safety_flat" in v.codes
    assert "pertanyaan soal keamanan/alergi dijawab datar tanpa penjelasan" in v.reasons


def test_a_redirect_names_the_reason_in_english_too() -> None:
    v = judge(
        customer="kak aku lingkar pinggang 72, muat ukuran S ga?",
        reply="Cek size chart di foto terakhir.",
        language="en",
    )
    assert "redirect_only" in v.codes
    assert "only tells the customer to look it up; the question is not answered" in v.reasons
