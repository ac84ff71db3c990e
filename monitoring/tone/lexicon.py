"""Word lists of the terse judge, all in canonical (normalized) form.

Everything here is built once at import time (frozensets, dicts, compiled regexes) so a call to
`judge` allocates nothing big. Words are canonical forms produced by `normalize.canon`: slang such as
"brp", "udh", "ga", "mksh" is mapped before any of these sets is consulted.
"""

from __future__ import annotations

import re
from typing import Final

from monitoring.tone.phrases import PhraseGroup, Phrases


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Slang, abbreviations and spelling variants -> canonical token(s). Values are tuples because a few
# spellings stand for two words ("gatau" -> "tidak tahu").
_SLANG_GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "iya": ("iy", "iyh", "iyah", "iyaa", "iye", "iyo", "iyap", "iyya", "yoi", "iyaah"),
    "ya": ("y", "yaa", "yah", "yap"),
    "yang": ("yg", "yng"),
    "oke": ("ok", "okk", "okey", "okay", "okeh", "okei", "oce", "okie", "oks", "okok", "k", "okeey", "oki"),
    "kak": ("ka", "kaka", "kakak", "kakk", "kaa", "kakaa"),
    "gapapa": ("gpp", "gapapa", "gpapa", "gakpapa", "gkpp", "ngapapa", "gapp"),
    "berapa": ("brp", "brapa", "berapaan", "brpa", "brapaan"),
    "sudah": ("udh", "udah", "dah", "sdh", "sudh", "uda", "udahan"),
    "makasih": (
        "mksh",
        "makasi",
        "mkasih",
        "maaci",
        "makasii",
        "mkch",
        "maksih",
        "mkasi",
        "trims",
        "trimakasih",
        "terimakasih",
        "tengkyu",
        "makasi",
        "mkcih",
        "tks",
    ),
    "thanks": ("thx", "thank", "ty", "tq", "tysm", "thankyou", "thanx", "tqvm"),
    "belum": ("blm", "blom", "belom", "lom"),
    "bisa": ("bs", "bsa"),
    "besok": ("bsk", "besuk"),
    "saya": ("sy", "aku", "aq", "gw", "gue", "gua", "ane", "sya"),
    "tidak": (
        "tdk",
        "gak",
        "ga",
        "nggak",
        "ngga",
        "engga",
        "enggak",
        "gk",
        "g",
        "tak",
        "nda",
        "ndak",
        "kagak",
        "gaa",
        "gag",
        "nggk",
        "ngk",
    ),
    "dengan": ("dgn", "dg"),
    "untuk": ("utk", "untk", "tuk"),
    "juga": ("jg",),
    "karena": ("krn", "karna", "soalnya"),
    "kemarin": ("kmrn", "kemaren", "kmarin", "kmren"),
    "banget": ("bgt", "bngt", "bngt", "bener2"),
    "sama": ("sm",),
    "terus": ("trs", "trus"),
    "gimana": ("gmn", "gmana", "gimn", "bagaimana", "gmna"),
    "dimana": ("dmn", "dmana"),
    "kenapa": ("knp", "napa", "ngapa", "knapa"),
    "tapi": ("tp", "tpi"),
    "kalau": ("klo", "kalo", "kl", "klu", "klau"),
    "aja": ("aj", "ajah", "saja"),
    "sampai": ("sampe", "nyampe", "nyampai", "smpe", "smp", "nyampek"),
    "datang": ("dateng", "dtg"),
    "lihat": ("liat", "lht"),
    "tahu": ("tau",),
    "benar": ("bener", "bnr"),
    "pesan": ("pesen", "psn"),
    "tanya": ("nanya", "nanyain", "tny"),
    "masih": ("msh", "masi"),
    "lagi": ("lg",),
    "sedang": ("sdg", "lagi2"),
    "mbak": ("mba", "mbk", "mbaa"),
    "pak": ("bpk", "bapak"),
    "bu": ("ibu",),
    "original": ("ori", "orisinil", "orginal"),
    "transfer": ("tf", "trf"),
    "rekening": ("rek", "norek"),
    "silakan": ("silahkan", "silakan", "silahkn", "monggo"),
    "maaf": ("mf", "maap", "maav", "sori", "sorry", "sory"),
    "halo": ("hallo", "helo", "hello", "haloo", "hai", "hi", "hey", "hy", "hei", "hii"),
    "assalamualaikum": ("assalamualaikum", "asalamualaikum", "assalamu", "asw", "aslm", "assalamualaykum"),
    "waalaikumsalam": ("wslm", "waalaikumussalam", "walaikumsalam", "waalaikumsalam", "waalaikum"),
    "yes": ("yep", "yup", "yeah", "yea", "ye", "yess", "yas"),
    "no": ("nope", "nah"),
    "you": ("u",),
    "please": ("pls", "plz", "plis", "pliss"),
    "gratis": ("free",),
    "pengiriman": ("ngirim",),
    "kirim": ("krm",),
    "dikirim": ("dkrm", "dikirimin", "dikirimkan"),
    "jnt": ("j&t",),
    "hehe": ("haha", "hihi", "xixi", "wkwk", "hahaha", "hehehe", "wkwkwk", "wk"),
    "harga": ("hrg", "hrga"),
    "stok": ("stock", "stoknya"),
    "ukuran": ("uk", "ukr"),
    "ongkir": ("ongkirnya", "ongkoskirim"),
    "tidak tahu": ("gatau", "gtau", "gatahu", "gataw", "gatw", "gktau", "idk", "dunno"),
    "tidak usah": ("gausah", "gusah", "gaush", "gaus", "ngga usah"),
    "sama sama": ("sama2", "sm2", "sma2", "samsam"),
}

SLANG: Final[dict[str, tuple[str, ...]]] = {
    variant: tuple(canonical.split()) for canonical, variants in _SLANG_GROUPS.items() for variant in variants
}

# --- warmth markers -------------------------------------------------------------------------------
HONORIFICS: Final = _words(
    "kak kk sis gan agan min admin mimin bu pak mas mbak bang abang bunda bun dear sir maam madam teh "
    "neng akak kakanda say beb"
)
# "kk" is the honorific typed in a hurry: it counts as an honorific, but "ok kk" is still a bare ack.
LAZY_HONORIFICS: Final = _words("kk")
GREETINGS: Final = _words(
    "halo assalamualaikum waalaikumsalam selamat morning afternoon evening welcome salam shalom om swastiastu"
)
THANKS: Final = _words("makasih thanks kasih appreciate alhamdulillah welcome")
APOLOGY: Final = _words("maaf apologies apologize apologise waduh aduh mohon sorry")
INVITATION: Final = _words(
    "silakan yuk yuks ayo ditunggu diorder please feel glad happy enjoy hope bantu dibantu bantuin kabari "
    "kabarin semoga jangan sungkan boleh let checkout dipilih order"
)
SOFTENERS: Final = _words("ya nggih dong deh kok hehe yuk nih lho loh kakak")
FRIENDLY_EMOJI: Final = frozenset(
    "😊🙏🥰❤😍😁😀😃😄😆🤗☺💕💖💗💞🌸✨🙂👍😉🤩💐🌷🫶👌🥳🎉💛💙💚💜🧡🤍😇😘😚🙌👋😅🤭🌹💝🫰🤝💯🔥😋☀🌼🌶🍯🍪🎂🍰☕🍱🌴✈📦🎮🐰💄🔧🖤🥹📸🧘🚗🍀🌟⭐💐🎁🛍🧁🍩🥳👏🤙"
)
COLD_EMOJI: Final = frozenset("🙄😒😤😑😡🤬🖕😠😐")
FRIENDLY_EMOTICONS: Final = _words(":) :-) :d =) ;) :p <3 :3")

# --- acknowledgements ---------------------------------------------------------------------------
# A reply made only of these (plus "kk") is a bare acknowledgement.
BARE_ACK: Final = _words(
    "iya ya oke sip siap ready gapapa noted yes no tidak belum sudah bisa ada boleh baik sure done open "
    "buka betul benar hmm hm oh oo fine apa kenapa lah kk cool alright right yaudah yoi oce mantap gas"
)
# Words that answer a yes/no question when they open a sentence.
ANSWER_ACKS: Final = _words(
    "iya ya bisa ada ready sudah belum tidak yes no boleh aman cocok muat original asli open buka tentu "
    "pasti sure betul benar masih tersedia available gratis baru halal sorry maaf unfortunately habis "
    "kosong untuk of absolutely definitely gapapa"
)

# --- customer closings --------------------------------------------------------------------------------
CLOSING_OPENERS: Final = _words("oke sip siap baik noted makasih thanks mantap great")

# --- question detection ---------------------------------------------------------------------------
WH_WORDS: Final = _words(
    "apa berapa gimana kapan dimana mana kenapa mengapa kok what how when where why which who whats hows wheres whens"
)
YN_OPENERS: Final = _words(
    "apakah bisa bisakah boleh ada ready masih is are do does did can could will would have has any open "
    "bener benar cocok aman"
)
YN_TAGS: Final = _words("tidak belum kah apa nggak engga no or")
WHY_WORDS: Final = _words("kenapa mengapa kok why")
QUESTION_TRAILERS: Final = _words("ya kak kk sih dong nih min sis gan deh ka mbak pak bu mas please")
CLAUSE_LEADERS: Final = (
    HONORIFICS
    | GREETINGS
    | _words(
        "mau tanya permisi terus sama dan juga and also hi then oh btw eh mohon info kalau misal yang ini itu untuk nah"
    )
)

# --- topics -----------------------------------------------------------------------------------------
TOPICS: Final = ("price", "shipping", "delivery", "discount", "payment", "howto", "size", "colour", "stock")

COLOURS: Final = _words(
    "hitam putih merah pink navy maroon mocca moka sage nude biru hijau kuning abu coklat cokelat cream "
    "krem ungu oranye orange silver gold emas black white red grey gray blue green beige brown purple "
    "yellow tosca army olive lilac peach salem dusty mint broken"
)
TOPIC_QUESTION_WORDS: Final[dict[str, frozenset[str]]] = {
    "price": _words("harga price prices cost biaya pricelist pricing"),
    "stock": _words("ready stok available tersedia restock habis kosong availability sold have"),
    "size": _words(
        "ukuran size sizes muat lingkar sizechart xl xxl xxxl xs l m cm inch tinggi berat bb tb ld fit "
        "panjang lebar nomor kg allsize jumbo"
    ),
    "shipping": _words(
        "ongkir ongkos kirim pengiriman kurir ekspedisi jne jnt sicepat anteraja gosend grabexpress ship "
        "shipping courier kargo cargo dikirim luar pulau deliver ships ninja lion pos"
    ),
    "delivery": _words(
        "sampai datang resi tracking status arrive arrived arrives track estimasi shipped diproses proses "
        "delivered diterima sent pesanan paket parcel order lama"
    ),
    "howto": _words("cara pemakaian penggunaan caranya often instructions instruction"),
    "colour": _words("warna color colour colors colours") | COLOURS,
    "payment": _words(
        "bayar pembayaran cod transfer rekening qris payment pay ovo gopay shopeepay paylater cicilan kredit "
        "bca mandiri bri bni dibayar paid spaylater tunai cash"
    ),
    "discount": _words(
        "diskon promo voucher potongan nego discount negotiable grosir coupon cashback kupon kurang discounts "
        "promos sale deal"
    ),
}
ANY_TOPIC_QUESTION_WORD: Final = frozenset().union(*TOPIC_QUESTION_WORDS.values())
SHIP_NOT_COST: Final = TOPIC_QUESTION_WORDS["shipping"] - {"ongkir", "ongkos"}
# Words that make "kirim"/"ship" a question about WHEN rather than whether or how much.
TIME_WORDS: Final = _words(
    "hari kapan besok lusa jam minggu today tomorrow when days long lama sekarang belum sudah yet still now week"
)
HOWTO_VERBS: Final = _words(
    "pakai pake use apply order pesan bayar klaim cuci retur return tukar checkout daftar claim wash "
    "pasang install simpan store"
)
# "berapa" next to one of these asks a quantity, not a price ("isi berapa ml", "berapa lama").
NOT_PRICE_BERAPA: Final = _words(
    "hari lama jam minggu days long pcs banyak kali ml gr gram kg cm liter meter isi buah biji lembar "
    "watt mah tahun bulan persen umur usia many orang lusin kodi stok sisa nomor no inch mm"
)

# Evidence in the reply that a topic is addressed.
_PRICE_EV = _words("rp rupiah ribu rb juta jt gratis idr k harga")
TOPIC_EVIDENCE: Final[dict[str, frozenset[str]]] = {
    "price": _PRICE_EV,
    "stock": _words(
        "ready ada stok tersedia habis kosong available sold restock tinggal sisa preorder po masih left empty kosongan"
    ),
    "size": _words(
        "ukuran size s m l xl xxl xxxl xs allsize cm inch muat pas fit fits lingkar panjang lebar longgar "
        "ketat ld pb bb tb kg sizechart besar kecil small medium large jumbo nomor"
    ),
    "shipping": _words(
        "kirim dikirim pengiriman ongkir kurir jne jnt sicepat anteraja pos ekspedisi gosend grabexpress "
        "instant sameday reg ship ships shipping courier gratis cargo kargo only within hanya ninja lion "
        "wahana delivery deliver"
    )
    | _PRICE_EV,
    "delivery": _words(
        "hari besok lusa minggu jam estimasi sampai perjalanan resi tracking dikirim kirim today tomorrow "
        "days day week tonight ships shipped ship proses diproses sore pagi siang malam senin selasa rabu "
        "kamis jumat sabtu yet transit gudang sudah belum segera nanti estimate arrive arrives cek check "
        "kabari dicek"
    ),
    "howto": _words(
        "cara pakai oleskan oles gunakan langkah klik pilih tulis isi lalu kemudian setelah sebelum use apply "
        "choose click then step steps pagi malam once twice daily kali foto kirim cuci laundry air campur "
        "tekan caranya pemakaian gampang usap semprot"
    ),
    "colour": _words("warna color colour") | COLOURS,
    "payment": _words(
        "bayar pembayaran cod transfer rekening qris payment pay ovo gopay shopeepay paylater cicilan kredit "
        "bca mandiri bri bni tunai cash checkout dana va virtual"
    ),
    "discount": _words(
        "diskon promo voucher potongan gratis cashback sale nego fixed pas persen off flash discount grosir "
        "reseller khusus bonus coupon net murah"
    ),
}
# Tokens that carry no answer content.
NON_CONTENT: Final = (
    HONORIFICS
    | GREETINGS
    | THANKS
    | APOLOGY
    | SOFTENERS
    | BARE_ACK
    | _words(
        "terima sama selamat pagi siang sore malam kami saya you we the a is it its to of and kakak nya pun "
        "aja juga lah sih dulu ini itu"
    )
)
STOPWORDS: Final = NON_CONTENT | _words(
    "yang dan atau di ke dari untuk dengan kalau mau tanya bisa ada tidak apa berapa gimana this that for "
    "in on do does can i my your have are be with at an as"
)

# --- customer state -----------------------------------------------------------------------------------
COMPLAINT_WORDS: Final = _words(
    "rusak pecah kecewa komplain complain salah telat dibatalkan batal dikembalikan retur cacat hilang hasnt "
    "cancelled canceled wrong broken late damaged refund return menggumpal bocor sobek lecet penyok kok "
    "sesuai ditagih nunggu gerak waiting kecil kekecilan kebesaran luntur"
)
ENGLISH_HINTS: Final = _words(
    "the is are you do does this my i it to can have what how please thanks order with hello hi yes no "
    "your we our would like want ship size available price where when why was still an in"
)

# --- cold phrases (matched on the canonical text, words separated by single spaces) --------------------
_W = r"(?:\w+ )"
BLAME: Final = Phrases(
    r"\b(?:"
    r"salah (?:kak|kamu|anda|sendiri|customer|pembeli|agan|sis|situ)(?: sendiri)?"
    r"|(?:kamu|anda|situ)(?: sendiri)? (?:yang )?salah|kak(?: sendiri)? yang salah"
    r"|(?:berarti|pasti|itu) (?:\w+ )?(?:salah|keliru) (?:kak|kamu|anda|sendiri)"
    r"|penyimpanan\w* (?:\w+ )?salah|salah (?:simpan|pakai|penyimpanan|pilih)"
    r"|bukan salah (?:kami|kita|toko|saya|seller|penjual)"
    r"|(?:alamat|data)\w* (?:kak|kamu|anda) (?:yang )?(?:tidak|kurang) (?:lengkap|jelas|benar)"
    r"|(?:kak|kamu|anda) (?:sendiri )?yang (?:pilih|milih|pesan|tidak teliti|kurang teliti)"
    r"|you (?:chose|picked|ordered|selected) (?:\w+ ){0,3}(?:yourself|wrong)"
    r"|your (?:own )?(?:fault|mistake|problem)"
    r"|not our (?:fault|problem|responsibility|mistake)"
    r"|you should (?:have|ve) (?:read|checked|chosen|picked|ordered|asked|measured|looked|known)"
    r"|you didnt (?:read|check|mention|measure)"
    r")\b"
)
LECTURE: Final = Phrases(
    r"\b(?:"
    r"baca (?:\w+ )?(?:deskripsi|deskripsinya|caption|dulu|lagi|dong|deh|sendiri|syarat|ketentuan|bio|keterangan)"
    r"|makanya (?:baca|dibaca|lihat|cek)"
    r"|(?:silakan|tolong|harap) (?:\w+ )?(?:dibaca|baca)"
    r"|kan sudah (?:\w+ )?(?:di)?(?:bilang|jelaskan|jelasin|tulis|kasih tahu|info|cantumkan|ada)"
    r"|sudah (?:kami |saya )?(?:di)?(?:bilang|jelaskan|jelasin|ditulis|tulis|kasih tahu|cantumkan|tertera|tercantum)"
    r"(?: \w+){0,3} (?:deskripsi|caption|bio|etalase|atas|tadi|berkali|lengkap)"
    r"|sudah (?:kami |saya )?(?:bilang|jelaskan|jawab) (?:\w+ ){0,2}(?:tadi|berkali|dari tadi)"
    r"|(?:sudah|kan) (?:ada |jelas |tertera |tercantum |tertulis )?(?:ada )?di (?:deskripsi|caption|bio|keterangan)"
    r"|(?:ada|lihat|cek|baca) di deskripsi"
    r"|jangan (?:tanya|bertanya) (?:terus|mulu|lagi|melulu)|(?:tanya|bertanya) (?:terus|mulu|melulu)"
    r"|harusnya (?:kak |kamu |anda )?(?:baca|cek|lihat|tanya)"
    r"|lain kali (?:\w+ )?(?:baca|isi|cek|lihat|teliti|perhatikan)"
    r"|sebelum (?:bertanya|tanya|checkout|order|beli|membeli)(?: \w+)?(?: ya)?$"
    r"|berkali kali|dari tadi sudah"
    r"|read (?:the |our )?(?:description|desc|caption|details|listing|bio|faq|product page)"
    r"|read (?:it |them )?before (?:asking|ordering|buying)"
    r"|as i (?:said|mentioned|told)|like i said|i already (?:said|told|mentioned|explained)"
    r"|already (?:said|told you|mentioned|explained|stated)"
    r"|its (?:all )?(?:in|on) the (?:description|listing|caption|product page)"
    r"|did you (?:not )?read|stop asking|check (?:it )?yourself"
    r")\b"
)
DISMISS: Final = Phrases(
    r"\b(?:"
    r"terserah|whatever|suit yourself|take it or leave it"
    r"|kalau (?:tidak|kurang) (?:percaya|mau|suka|cocok)(?: \w+){0,3} (?:tidak usah|jangan|ya sudah|yaudah|cari)"
    r"|tidak usah (?:beli|order|tanya|minta|banyak|protes|komplain)"
    r"|(?:beli|cari|order) (?:aja |saja )?(?:di|ke) (?:toko|tempat|seller) (?:lain|sebelah)"
    r"|tidak mungkin|namanya juga|ya sudah lah|yaudah lah"
    r"|(?:itu |ya itu )?(?:urusan|tanggung jawab|salah|masalah) (?:kurir|ekspedisi|jne|jnt|sicepat|shopee|bea cukai)"
    r"|bukan (?:urusan|tanggung jawab|masalah) (?:kami|kita|saya|toko|seller)"
    r"|(?:tanya|hubungi|komplain) (?:\w+ )?(?:ke |sama )?(?:kurir|ekspedisi)(?: aja| saja| sendiri)"
    r"|(?:cek|lihat|track|lacak) (?:aja |saja |sendiri )(?:di )?(?:aplikasi|app|apk|web|etalase)?"
    r"|(?:cek|lihat) (?:aja |saja )?sendiri|lihat aja di|cek aja"
    r"|bawel|cerewet|ribet banget|ribut|rewel|berisik"
    r"|admin (?:cuma|hanya) (?:satu|1|sendiri)"
    r"|ask the courier|take it up with|(?:the )?couriers? (?:problem|fault|issue)"
    r"|check the (?:app|website|tracking|listing) yourself|check the app|be patient|calm down|chill"
    r"|not my problem|no returns|deal with it"
    r")\b"
)
# A warm holding reply ("kami cek dulu ya kak") addresses the question for now.
DEFER: Final = Phrases(
    r"\b(?:(?:kami|saya|admin|aku) (?:\w+ )?(?:cek|cekkan|cekin|tanyakan|konfirmasi|kabari|kabarin|infokan|pastikan)"
    r"|(?:nanti|segera|secepatnya) (?:kami |saya |admin )?(?:kabari|kabarin|info|infokan|cek|dicek|update)"
    r"|cek dulu|dicek dulu|tunggu sebentar|ditunggu sebentar|mohon ditunggu|izin cek"
    r"|(?:we|i)ll (?:check|let you know|confirm|find out|get back)|let me (?:check|confirm|find out)"
    r")\b"
)
PATIENCE: Final = Phrases(r"\b(?:sabar|wait)\b")
DONT_KNOW: Final = Phrases(r"\btidak tahu\b|\bdont know\b|\bno idea\b")
# The phrases `_cold_codes` looks for: an ordinary reply has none of their words and skips them all.
COLD: Final = PhraseGroup(BLAME, LECTURE, DISMISS, PATIENCE, DONT_KNOW)
FOLLOW_UP: Final = _words("cek dicek tanya tanyakan kabari kabarin bantu check confirm konfirmasi coba pastikan info")

# Sentences that are templates or auto-replies: they never answer a question.
TEMPLATE: Final = Phrases(
    r"\b(?:"
    r"(?:terima kasih|makasih|thanks|thank you) (?:sudah |telah |atas |for )?"
    r"(?:menghubungi|chat|contacting|reaching|kunjungan)"
    r"|selamat datang(?: di)?|welcome to"
    r"|ada yang bisa (?:kami |saya |admin )?(?:bantu|dibantu)|(?:bisa|boleh) (?:kami|saya) bantu|how can (?:we|i) help"
    r"|jam (?:operasional|kerja|buka)|operational hours|business hours|opening hours"
    r"|(?:pesan|chat|message) (?:kak|anda|kamu)? ?(?:akan|segera)"
    r"|(?:akan |segera )(?:kami )?(?:balas|dibalas|respon|direspon)"
    r"|we will (?:reply|get back|respond)|well get back|auto reply|autoreply|pesan otomatis|balasan otomatis"
    r"|1x24 jam|silakan lihat lihat|lihat lihat (?:koleksi|katalog|produk)|happy shopping|selamat berbelanja"
    r"|follow (?:ig|instagram|akun)|jangan lupa follow"
    r")\b"
)

PRICE_NUMBER_RE: Final = re.compile(r"^(?:rp|idr)?\d+(?:rb|k|ribu|jt|juta|an)?$")
PRICE_MARKED_RE: Final = re.compile(r"^(?:rp|idr)\d|^\d+(?:rb|k|ribu|jt|juta)$")
MONEY_WORDS: Final = _words("rp idr rupiah ribu rb")
THANKS_TOKENS: Final = _words("makasih thanks appreciate welcome")
COST_WORDS: Final = _words("ongkir ongkos berapa much cost biaya harga price")
DIGIT_RE: Final = re.compile(r"\d")

VOCAB: Final = frozenset().union(
    HONORIFICS,
    GREETINGS,
    THANKS,
    APOLOGY,
    INVITATION,
    SOFTENERS,
    BARE_ACK,
    ANSWER_ACKS,
    WH_WORDS,
    YN_OPENERS,
    COLOURS,
    TIME_WORDS,
    HOWTO_VERBS,
    COMPLAINT_WORDS,
    NON_CONTENT,
    CLOSING_OPENERS,
    *TOPIC_QUESTION_WORDS.values(),
    *TOPIC_EVIDENCE.values(),
    {
        "warna",
        "bahan",
        "isi",
        "foto",
        "barang",
        "produk",
        "pesan",
        "pesanan",
        "paket",
        "sampai",
        "kirim",
        "baca",
        "deskripsi",
        "siap",
        "sip",
        "sabar",
        "tahu",
        "salah",
        "urusan",
        "kurir",
        "rekening",
        "terima",
    },
)
