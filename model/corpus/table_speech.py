"""Label table, speech part: who speaks in which file, in which language.

Voices are labelled male / female / child only where it could be told; the basis was
the median fundamental frequency (F0) measured over a sample of each speaker's files
(autocorrelation, voiced frames), noted next to each rule. Between about 165 and
200 Hz, or where one folder mixes voices, the label stays plain `speech`.

The split group of speech is the speaker (or the smallest unit known to hold one
voice: a language folder, a voice pack), so validation voices are never heard in
training. Paths are relative to the package roots in `packages.py`.
"""

from clapsep.model.corpus.rules import SKIP, R, Rule

_FILLETS = (
    # Fish Fillets NG, Czech dub. File names are <level>-<speaker>-<line>.
    R(r"^(music|viking1)/", SKIP),  # sung lines, not speech
    # m = the small fish: F0 283 Hz over 698 lines.
    R(
        r"/cs/(?:[^/]+-)?m-[^/]+\.ogg$|/cs/[^/]+-m\.ogg$",
        "speech_female",
        language="cs",
        group="small-fish",
    ),
    # v = the big fish: F0 123 Hz over 657 lines.
    R(
        r"/cs/(?:[^/]+-)?v-[^/]+\.ogg$|/cs/[^/]+-v\.ogg$",
        "speech_male",
        language="cs",
        group="big-fish",
    ),
    # Everyone else (gods, parrot, crabs, robots...): few actors, so one group for all.
    R(r"/cs/[^/]+\.ogg$", "speech", language="cs", group="other-characters"),
)

_TUXPAINT = (
    # Spoken stamp names: <stamp>_desc_<lang>.ogg, one reader per language.
    R(r"_desc\.(ogg|wav)$", "speech", language="en", group="voice-en"),  # F0 176 Hz
    R(r"_desc_be\.", "speech_female", language="be", group="voice-be"),  # 256 Hz
    R(r"_desc_bg\.", "speech_male", language="bg", group="voice-bg"),  # 113 Hz
    R(r"_desc_ca\.", "speech_male", language="ca", group="voice-ca"),  # 152 Hz
    R(r"_desc_da\.", "speech_male", language="da", group="voice-da"),  # 132 Hz
    R(r"_desc_el\.", "speech_female", language="el", group="voice-el"),  # 232 Hz
    R(r"_desc_es\.", "speech_female", language="es", group="voice-es"),  # 262 Hz
    R(r"_desc_fr\.", "speech_male", language="fr", group="voice-fr"),  # 137 Hz
    R(r"_desc_nl\.", "speech_male", language="nl", group="voice-nl"),  # 114 Hz
    R(r"_desc_ro\.", "speech_female", language="ro", group="voice-ro"),  # 235 Hz
    R(r"_desc_ru\.", "speech_male", language="ru", group="voice-ru"),  # 138 Hz
    R(
        r"_desc_(?P<lang>[a-z]{2}(_[A-Z]{2})?)\.", "speech", group="voice-{lang}"
    ),  # ml, pt_BR: few files
)

_KTUBERLING = (
    # Potato Guy: one folder per language, files named <theme>_<word> or <word>.
    # Mixed folders are split by theme where the F0 says the voice changes.
    R(r"^ca/pizzeria_", "speech_male", language="ca", group="voice-ca"),  # 147 Hz
    R(r"^ca/[^_/]+\.\w+$", "speech_male", language="ca", group="voice-ca"),  # 154 Hz
    R(r"^ca/", "speech_female", language="ca", group="voice-ca"),  # 222-267 Hz
    R(r"^da/xmas_", "speech_female", language="da", group="voice-da"),  # 281 Hz
    R(r"^da/[^_/]+\.\w+$", "speech_female", language="da", group="voice-da"),  # 267 Hz
    R(r"^da/", "speech_male", language="da", group="voice-da"),  # 137-151 Hz
    R(r"^fr/robin_", "speech_male", language="fr", group="voice-fr"),  # 125 Hz
    R(r"^ru/(egypt|moon|pizzeria)_", "speech_male", language="ru", group="voice-ru"),  # 125-138 Hz
    R(r"^ru/(tv|xmas)_", "speech_female", language="ru", group="voice-ru"),  # 213-229 Hz
    R(r"^(?P<lang>de|el|es|ga|lt|nds|wa)/", "speech_male", group="voice-{lang}"),  # 117-163 Hz
    R(r"^(?P<lang>it|pt|ro|sr|sv|uk)(@\w+)?/", "speech_female", group="voice-{lang}"),  # 219-291 Hz
    # fi, gl, nl: median F0 348-500 Hz with the 25th percentile above 260 Hz: a child.
    R(r"^(?P<lang>fi|gl|nl)/", "speech_child", group="voice-{lang}"),
    R(
        r"^(?P<lang>[a-z]+)(@\w+)?/", "speech", group="voice-{lang}"
    ),  # en, fr, ru, sl, nn: mixed or 165-200 Hz
)

_HEDGEWARS = (
    # 15 voice packs of the same cartoon hedgehogs, all pitched up (F0 230-420 Hz).
    R(r"^Sounds/voices/(?P<pack>[^/]+)/Laugh\.ogg$", "laughter", group="pack-{pack}"),
    R(r"^Sounds/voices/(?P<pack>[^/]+)/PoisonCough\.ogg$", "cough", group="pack-{pack}"),
    R(
        r"^Sounds/voices/(?P<pack>[^/]+)/(Ow\d|Ooff\d|Ouch|Jump\d|Firepunch\d|PoisonMoan)\.ogg$",
        "grunt",
        group="pack-{pack}",
    ),
    R(r"^Sounds/voices/(?P<pack>Robot)/", "speech_synthetic", language="en", group="pack-{pack}"),
    R(r"^Sounds/voices/(?P<pack>[^/]+)/", "speech_cartoon", group="pack-{pack}"),
)

_FOTAQ = (
    # Flight of the Amazon Queen (1995 talkie; Debian's MP3 rebuild, 16 kbit/s, 11025 Hz).
    # Entry names: a dialogue or cutaway file whose first two characters name the room, the line,
    # then J for Joe or P for the other party; JOE<n> are Joe's own remarks.
    # Joe King: F0 147 Hz over JOE*, 134 Hz over <hex>J*, 136 / 153 Hz over ..SSSSJ* / ..XXXXJ*
    # (40 each).
    R(r"^(JOE\d+|[0-9A-Z]{6}J\d+)\.SB$", "speech_male", language="en", group="joe"),
    # Everyone else, men and women (P lines 167 Hz, cutaways C* 178 Hz with p25-p75 134-220 Hz;
    # Joe also speaks in cutaways): one group per room, so the split holds out whole rooms.
    R(r"^(?P<room>[0-9A-Z]{2})[^/]*\.SB$", "speech", language="en", group="room-{room}"),
)

_WARZONE = (
    # Warzone 2100 voices inside base.wz; most messages are radio-filtered. Group: the first folder.
    R(r"^audio/nexus/laugh\d\.ogg$", SKIP),  # the villain's processed laugh
    R(
        r"^audio/(?P<d>nexus)/", "speech_synthetic", language="en", group="{d}"
    ),  # NEXUS, a processed AI voice
    # The advisor of messages and countdowns: F0 193-230 Hz in every memressp folder, 225 Hz in
    # countdown; audio/extra continues her pcv* messages (193 Hz, p25 162), so all three are one
    # group.
    R(r"^audio/(memressp|countdown)/", "speech_female", language="en", group="advisor"),
    R(r"^audio/extra/", "speech", language="en", group="advisor"),
    R(
        r"^audio/(?P<d>trnsppil|vtoltalk)/", "speech_male", language="en", group="{d}"
    ),  # pilots: 124 / 138 Hz
    # Narrator 193 Hz, three taunt voices 167 Hz (p25 96), colonel, proximity
    # messages 187 Hz, weapon names 259 Hz, briefings 262 Hz (p25 160): mixed or 165-200 Hz.
    R(
        r"^audio/(?P<d>tutorial|taunts|coltive|proxmessages|multi)/",
        "speech",
        language="en",
        group="{d}",
    ),
    R(r"^(?P<d>sequenceaudio)/", "speech", language="en", group="{d}"),
)

_GCIN = (
    # gcin's Mandarin syllables: one folder per zhuyin syllable, read by two speakers
    # (3.ogg, 5.ogg).
    R(r"(^|/)3\.ogg$", "speech_male", language="zh", group="reader-3"),  # F0 139 Hz over 40 files
    R(
        r"(^|/)5\.ogg$", "speech_female", language="zh", group="reader-5"
    ),  # 345 Hz (p25 226) over 40 files
)

_MG_UNITS = r"^techs/megapack/factions/(?P<f>[^/]+)/units/(?P<u>[^/]+)/sounds/"
# acknowledge / select lines, not *_attack
_MG_BARK = r"(?:[^/]*_)?(?:ack|sel|select)\d*[a-z]?\.(?:wav|ogg)$"

_MEGAGLEST = (
    # MegaGlest unit barks (English and gibberish, mostly under 1 s); one group per faction and
    # unit. Animals, monsters, daemons and processed voices are not speech: chicken 258 Hz,
    # thunderbird 342 Hz, genie 380 Hz, dragon rider 401 Hz (pitched), magician 77 Hz (pitched
    # down), battleaxe = daemon_*.
    R(
        r"^techs/megapack/factions/(egypt/units/(anubis_warrior|chicken|mummy)|indian/units/(bull|thunderbird)"
        r"|magic/units/(behemoth|daemon|dragon|dragon_rider|evil_dragon|ghost_armor|wicker_behemoth)"
        r"|norsemen/units/(battleaxe|battleaxe_berserk|wild_sow)"
        r"|persian/units/(elephant|genie|magician|sheep|snake_basket))/",
        SKIP,
    ),
    # Women: cudgel lady 192 Hz (p25 179), valkyrie 227 Hz, flying valkyrie 269 Hz, princess 286 Hz.
    R(
        r"^techs/megapack/factions/(?P<f>norsemen)/units/(?P<u>cudgel_lady|valkyrie|flying_valkyrie)/sounds/"
        + _MG_BARK,
        "speech_female",
        group="{f}-{u}",
    ),
    R(
        r"^techs/megapack/factions/(?P<f>persian)/units/(?P<u>princess)/sounds/" + _MG_BARK,
        "speech_female",
        group="{f}-{u}",
    ),
    R(_MG_UNITS + _MG_BARK, "speech", group="{f}-{u}"),  # men, 90-185 Hz (summoner 248 Hz: unsure)
)

_FILLETS_EN = (
    # Fish Fillets NG, English data: the fish are not voiced, only a few minor characters
    # (and effects).
    R(
        r"^sound/elk/en/deu-l-[^/]+\.ogg$", "speech", language="ru", group="elk-l"
    ),  # Russian words, 166 Hz
    R(
        r"^sound/elk/en/deu-p-[^/]+\.ogg$", "speech", language="de", group="elk-p"
    ),  # German words, 167 Hz
    R(
        r"^sound/warcraft/en/war-(?P<s>[ak])-[^/]+\.ogg$",
        "speech_male",
        language="en",
        group="warcraft-{s}",
    ),  # 104 / 112 Hz
    R(
        r"^sound/viking2/en/dr-7-sm\d\.ogg$", "laughter", group="viking2-laughing"
    ),  # smich: laughing
)

_FILLETS_NL = (
    # Fish Fillets NG, Dutch dub (held out), same layout as the Czech one; only /nl/ folders match.
    # m = the small fish: F0 218 Hz over 40 lines (p25 193), a higher, female-sounding voice.
    R(
        r"/nl/(?:[^/]+-)?m-[^/]+\.ogg$|/nl/[^/]+-m\.ogg$",
        "speech_female",
        language="nl",
        group="small-fish",
    ),
    # v = the big fish: F0 140 Hz over 40 lines.
    R(
        r"/nl/(?:[^/]+-)?v-[^/]+\.ogg$|/nl/[^/]+-v\.ogg$",
        "speech_male",
        language="nl",
        group="big-fish",
    ),
    R(r"/nl/[^/]+\.ogg$", "speech", language="nl", group="other-characters"),
)

_OPENARENA = (
    # The OpenArena announcer (reverberant), in pak0 and pak6-misc; the hit beeps share its folder.
    # Not used: missionpack sound/voices/festivoxmale (Festival TTS) and sound/voices/rott
    # (unclear origin).
    R(r"\.pk3/sound/feedback/(hit|hit_teammate|hithi|hitlo)\.wav$", SKIP),
    R(
        r"\.pk3/sound/(feedback|player/announcer)/[^/]+\.wav$",
        "speech",
        language="en",
        group="announcer",
    ),
    R(
        r"\.pk3/sound/teamplay/voc_[^/]+\.wav$", "speech", language="en", group="announcer"
    ),  # 162 Hz, mixed
)

_CODEC2 = (
    # codec2 test recordings (held out). Only originals: f2400 / m2400 are codec output, all.wav
    # joins others.
    R(
        r"^wav/(?P<s>morig|mmt1|big_dog|cross)\.wav$", "speech_male", language="en", group="{s}"
    ),  # 83-114 Hz
    R(
        r"^wav/(?P<s>forig)\.wav$", "speech_female", language="en", group="{s}"
    ),  # 182 Hz, the "f" original
    R(r"^wav/hts[12]a\.wav$", "speech", language="en", group="hts"),  # 114 / 174 Hz
    R(r"^wav/(?P<s>david4|wia_16kHz)\.wav$", "speech", language="en", group="{s}"),
    # Received over HF radio (SSB): distant, noisy and band-limited.
    R(r"^wav/(?P<s>ve9qrp|vk5qi)\.wav$", "speech_male", language="en", group="{s}"),  # 92 / 113 Hz
    R(r"^wav/(?P<s>vk2tpm_004)\.wav$", "speech", language="en", group="{s}"),
    R(
        r"^raw/speech_orig_16k\.wav$", "speech", language="en", group="speech_orig_16k"
    ),  # 213 Hz, p25 131
)

_POCKETSPHINX = (
    # pocketsphinx test data (held out): read card names, and LibriVox "Sense and Sensibility".
    R(r"^cards/\d+\.wav$", "speech_male", language="en", group="cards"),  # 96-111 Hz per file
    R(
        r"^librivox/[^/]+\.wav$", "speech_male", language="en", group="librivox"
    ),  # 82-112 Hz per file
)

SPEECH_RULES: dict[str, tuple[Rule, ...]] = {
    "fillets-ng-data-cs": _FILLETS,
    "tuxpaint-stamps-default": _TUXPAINT,
    "ktuberling-data": _KTUBERLING,
    "hedgewars-data": _HEDGEWARS,
    "flight-of-the-amazon-queen": _FOTAQ,
    "warzone2100-data": _WARZONE,
    "gcin-voice": _GCIN,
    "megaglest-data": _MEGAGLEST,
    "fillets-ng-data": _FILLETS_EN,
    "openarena-data": _OPENARENA,
    "fillets-ng-data-nl": _FILLETS_NL,
    "codec2-examples": _CODEC2,
    "pocketsphinx-testdata": _POCKETSPHINX,
}
