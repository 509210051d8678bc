"""Label table, speech part: who speaks in which file, in which language.

Voices are labelled male / female / child only where it could be told; the basis was
the median fundamental frequency (F0) measured over a sample of each speaker's files
(autocorrelation, voiced frames), noted next to each rule. Between about 165 and
200 Hz, or where one folder mixes voices, the label stays plain `speech`.

The split group of speech is the speaker (or the smallest unit known to hold one
voice: a language folder, a voice pack), so validation voices are never heard in
training. Paths are relative to the package roots in `packages.py`.
"""

from model.corpus.table import SKIP, R, Rule

_FILLETS = (
    # Fish Fillets NG, Czech dub. File names are <level>-<speaker>-<line>.
    R(r"^(music|viking1)/", SKIP),  # sung lines, not speech
    # m = the small fish: F0 283 Hz over 698 lines.
    R(r"/cs/(?:[^/]+-)?m-[^/]+\.ogg$|/cs/[^/]+-m\.ogg$", "speech_female", language="cs", group="small-fish"),
    # v = the big fish: F0 123 Hz over 657 lines.
    R(r"/cs/(?:[^/]+-)?v-[^/]+\.ogg$|/cs/[^/]+-v\.ogg$", "speech_male", language="cs", group="big-fish"),
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
    R(r"_desc_(?P<lang>[a-z]{2}(_[A-Z]{2})?)\.", "speech", group="voice-{lang}"),  # ml, pt_BR: few files
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
    R(r"^(?P<lang>[a-z]+)(@\w+)?/", "speech", group="voice-{lang}"),  # en, fr, ru, sl, nn: mixed or 165-200 Hz
)

_HEDGEWARS = (
    # 15 voice packs of the same cartoon hedgehogs, all pitched up (F0 230-420 Hz).
    R(r"^Sounds/voices/(?P<pack>[^/]+)/Laugh\.ogg$", "laughter", group="pack-{pack}"),
    R(r"^Sounds/voices/(?P<pack>[^/]+)/PoisonCough\.ogg$", "cough", group="pack-{pack}"),
    R(r"^Sounds/voices/(?P<pack>[^/]+)/(Ow\d|Ooff\d|Ouch|Jump\d|Firepunch\d|PoisonMoan)\.ogg$",
      "grunt", group="pack-{pack}"),
    R(r"^Sounds/voices/(?P<pack>Robot)/", "speech_synthetic", language="en", group="pack-{pack}"),
    R(r"^Sounds/voices/(?P<pack>[^/]+)/", "speech_cartoon", group="pack-{pack}"),
)

SPEECH_RULES: dict[str, tuple[Rule, ...]] = {
    "fillets-ng-data-cs": _FILLETS,
    "tuxpaint-stamps-default": _TUXPAINT,
    "ktuberling-data": _KTUBERLING,
    "hedgewars-data": _HEDGEWARS,
}
