"""The hand-written label table and vocabulary: consistency, and real file names mapped right.

The name checks use paths copied from the installed packages, so they run anywhere;
the checks against installed files skip, naming the package, where it is missing
(CI installs the list in model/corpus/apt-packages.txt).
"""

import random
from collections import Counter

import pytest

from clapsep.model.corpus.licences import licence_for, parse_dep5
from clapsep.model.corpus.packages import BY_NAME
from clapsep.model.corpus.sources import items, read_catalogue
from clapsep.model.corpus.table import all_rules, lookup
from clapsep.model.corpus.vocabulary import LABELS, LANGUAGES, caption, template_fields

CATEGORIES = {
    "speech",
    "vocal",
    "music",
    "instrument",
    "drums",
    "animal",
    "nature",
    "domestic",
    "vehicle",
    "machine",
    "impact",
    "alarm",
    "crowd",
    "ambience",
}


def installed(name: str):
    package = BY_NAME[name]
    if not package.installed():
        pytest.skip(f"{name} is not installed (apt-get install {name})")
    return package


def test_every_rule_label_is_in_the_vocabulary() -> None:
    unknown = {rule.label for rule in all_rules() if rule.label and rule.label not in LABELS}
    assert not unknown


def test_every_label_has_a_caption_that_needs_no_field() -> None:
    for label in LABELS.values():
        assert label.category in CATEGORIES
        assert any(not template_fields(t) for t in label.captions), label.name
        assert all(template_fields(t) <= {"what", "language"} for t in label.captions), label.name


def test_captions_fill_their_fields() -> None:
    rng = random.Random(0)
    for name in LABELS:
        for _ in range(10):
            text = caption(name, rng, what="camel", language="cs")
            assert "{" not in text and text.strip()
    assert {caption("speech_male", random.Random(i), language="cs") for i in range(50)} >= {
        "a man speaking Czech"
    }


def test_rule_languages_have_names() -> None:
    assert all(rule.language in LANGUAGES for rule in all_rules() if rule.language)


@pytest.mark.parametrize(
    ("package", "relpath", "label", "group"),
    [
        ("fillets-ng-data-cs", "barrel/cs/bar-m-barel.ogg", "speech_female", "small-fish"),
        ("fillets-ng-data-cs", "fdto/cs/agenti-m.ogg", "speech_female", "small-fish"),
        ("fillets-ng-data-cs", "hanoi/cs/v-alehrac.ogg", "speech_male", "big-fish"),
        ("fillets-ng-data-cs", "gods/cs/b1-potop1.ogg", "speech", "other-characters"),
        ("fillets-ng-data-cs", "viking1/cs/d1-1-hudba0.ogg", None, None),
        ("tuxpaint-stamps-default", "animals/birds/crow_desc_fr.ogg", "speech_male", "voice-fr"),
        ("tuxpaint-stamps-default", "animals/birds/crow_desc.ogg", "speech", "voice-en"),
        ("tuxpaint-stamps-default", "food/vegetables/corn_desc_pt_BR.wav", "speech", "voice-pt_BR"),
        (
            "tuxpaint-stamps-default",
            "town/monuments/inukshuk-photo_desc_da.ogg.ogg",
            "speech_male",
            "voice-da",
        ),
        ("tuxpaint-stamps-default", "animals/birds/crow.ogg", "bird", "animals/birds/crow.ogg"),
        (
            "tuxpaint-stamps-default",
            "animals/mammals/dogs/dog.ogg",
            "dog",
            "animals/mammals/dogs/dog.ogg",
        ),
        ("tuxpaint-stamps-default", "symbols/math/7_el.ogg", None, None),
        ("ktuberling-data", "fr/robin_Tux-Robin.wav", "speech_male", "voice-fr"),
        ("ktuberling-data", "sr@latin/brkovi.ogg", "speech_female", "voice-sr"),
        ("ktuberling-data", "en/tv_car.ogg", "speech", "voice-en"),
        ("hedgewars-data", "Sounds/voices/Pirate/Laugh.ogg", "laughter", "pack-Pirate"),
        ("hedgewars-data", "Sounds/voices/Pirate/Ooff2.ogg", "grunt", "pack-Pirate"),
        ("hedgewars-data", "Sounds/voices/Pirate/Incoming.ogg", "speech_cartoon", "pack-Pirate"),
        ("hedgewars-data", "Sounds/voices/Robot/Hello.ogg", "speech_synthetic", "pack-Robot"),
        ("hedgewars-data", "Sounds/steps.ogg", "footsteps", "Sounds/steps.ogg"),
        ("hedgewars-data", "Sounds/portalopen.ogg", None, None),
        ("hydrogen-data", "GMRockKit/Kick-Softest.wav", "kick_drum", "GMRockKit/Kick"),
        (
            "hydrogen-data",
            "GMRockKit/SnareRimshot-Hard.wav",
            "snare_drum",
            "GMRockKit/SnareRimshot",
        ),
        (
            "hydrogen-data",
            "TR808EmulationKit/808_Kick_Long.flac",
            "kick_drum",
            "TR808EmulationKit/808_Kick",
        ),
        ("sonic-pi-samples", "bd_haus.flac", "kick_drum", "bd_haus.flac"),
        ("sonic-pi-samples", "drum_cymbal_closed.flac", "hi_hat", "drum_cymbal_closed.flac"),
        ("sonic-pi-samples", "bass_voxy_c.flac", None, None),
        ("ufoai-sound", "sound/footsteps/snow3.ogg", "footsteps", "sound/footsteps/snow3.ogg"),
        (
            "ufoai-sound",
            "sound/misc/breakglass04.ogg",
            "glass_breaking",
            "sound/misc/breakglass04.ogg",
        ),
        (
            "ufoai-sound",
            "sound/civilians/civfemscream02a.ogg",
            "scream",
            "sound/civilians/civfemscream02a.ogg",
        ),
        ("openttd-opensfx", "52 Wind", "wind", "52 Wind"),
        ("openttd-opensfx", "29 Applause", "applause", "29 Applause"),
        ("openttd-opensfx", "60 Toyland: Comedy bus start (1)", None, None),
        ("lugaru-data", "Sounds/BarkGrowl.ogg", "dog", "Sounds/BarkGrowl.ogg"),
        ("lugaru-data", "Sounds/FootStepSnow1.ogg", "footsteps", "Sounds/FootStepSnow1.ogg"),
        ("widelands-data", "sound/animals/wolf_01.ogg", "howling", "sound/animals/wolf_01.ogg"),
        (
            "widelands-data",
            "world/critters/duck/duck_00.ogg",
            "duck",
            "world/critters/duck/duck_00.ogg",
        ),
        ("lincity-ng-data", "sounds/TraficHigh2.wav", "traffic", "sounds/TraficHigh2.wav"),
        ("lincity-ng-data", "sounds/FireStation1.wav", None, None),
    ],
)
def test_real_file_names_map_to_the_right_label(
    package: str, relpath: str, label: str | None, group: str | None
) -> None:
    entry = lookup(package, relpath)
    assert (entry and (entry.label, entry.group)) == (
        (label, f"{package}:{group}") if label else None
    )


def test_details_and_languages_come_through() -> None:
    snow = lookup("ufoai-sound", "sound/footsteps/snow3.ogg")
    czech = lookup("fillets-ng-data-cs", "barrel/cs/bar-v-hmm.ogg")
    assert snow is not None and snow.what == "on snow"
    assert czech is not None and czech.language == "cs"


def test_every_installed_hydrogen_file_is_labelled() -> None:
    package = installed("hydrogen-data")
    labels = Counter(
        e.label for e in (lookup(package.name, i.relpath) for i in items(package)) if e
    )
    assert sum(labels.values()) == 102
    assert set(labels) == {
        "cymbal",
        "hi_hat",
        "tom_drum",
        "snare_drum",
        "kick_drum",
        "cowbell",
        "percussion",
        "hand_clap",
    }


@pytest.mark.parametrize(
    "name",
    [
        "fillets-ng-data-cs",
        "tuxpaint-stamps-default",
        "ktuberling-data",
        "hedgewars-data",
        "sonic-pi-samples",
        "ufoai-sound",
        "lugaru-data",
        "widelands-data",
        "lincity-ng-data",
    ],
)
def test_the_table_still_fits_the_installed_package(name: str) -> None:
    """Most files of each package are labelled: a package update that moved its files fails here."""
    package = installed(name)
    found = list(items(package))
    labelled = sum(lookup(name, i.relpath) is not None for i in found)
    assert labelled >= 0.25 * len(found) and labelled >= 40


def test_opensfx_catalogue_entries_carry_licence_and_original() -> None:
    package = installed("openttd-opensfx")
    entries = read_catalogue(package.root)
    assert len(entries) == 73
    by_title = {i.relpath: i for i in items(package)}
    wind, heavy = by_title["52 Wind"], by_title["57 Heavy wind"]
    assert wind.group == heavy.group == "wind1.wav"  # edited from one recording: one split group
    assert wind.licence == "Creative Commons Attribution 3.0 Unported"
    assert by_title["37 Cow"].licence == "Creative Commons Zero 1.0"


def test_dep5_last_matching_stanza_wins() -> None:
    text = (
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: *\nCopyright: someone\nLicense: GPL-2+\n\n"
        "Files: data/sound/*\n data/extra.ogg\nLicense: CC-BY-SA-3.0\n text of the licence\n"
    )
    assert parse_dep5(text) == [
        (("*",), "GPL-2+"),
        (("data/sound/*", "data/extra.ogg"), "CC-BY-SA-3.0"),
    ]


def test_installed_per_file_licences() -> None:
    hedgewars = installed("hedgewars-data")
    assert licence_for(hedgewars, "Sounds/Droplet1.ogg") == "CC-BY-SA-3.0"
    assert licence_for(hedgewars, "Music/Art.ogg") == "GPL-2"
    sonic = installed("sonic-pi-samples")
    assert licence_for(sonic, "ambi_choir.flac") == "CC0"
