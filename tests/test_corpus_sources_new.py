"""The recorded-speech, ambience and music sources: container readers and label rules.

Everything here runs without the packages installed: the FOTAQ table reader on a
small synthetic `queen.1c`, a folder of .pk3 archives, and the label table on paths
copied from the installed packages.
"""

import io
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile

from clapsep.model.corpus.licences import licence_for
from clapsep.model.corpus.packages import BY_NAME, Package
from clapsep.model.corpus.sources import items, read_queen_table
from clapsep.model.corpus.table import lookup


def wav_bytes(seconds: float = 0.1, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    tone = (0.3 * np.sin(np.arange(int(seconds * rate)) * 0.2)).astype(np.float32).reshape(1, -1)
    with AudioFile(buffer, "w", samplerate=rate, num_channels=1, format="wav") as f:
        f.write(tone)
    return buffer.getvalue()


def write_queen(path: Path, entries: list[tuple[str, bytes]], compression: int = 1) -> None:
    """A QTBL table as in Debian's queen.1c: header, 21-byte records, then the data."""
    offset = 15 + 21 * len(entries)
    table, data = b"", b""
    for name, payload in entries:
        table += name.encode().ljust(12, b"\0") + struct.pack(
            ">BII", 1, offset + len(data), len(payload)
        )
        data += payload
    path.write_bytes(
        b"QTBL"
        + b"CEM10\0\0\0"
        + bytes([compression])
        + struct.pack(">H", len(entries))
        + table
        + data
    )


def test_queen_table_lists_names_offsets_and_sizes(tmp_path: Path) -> None:
    path = tmp_path / "queen.1c"
    write_queen(path, [("AZURA.PCX", b"x" * 7), ("020006J1.SB", b"abc"), ("C100A032.SB", b"defgh")])
    assert read_queen_table(str(path)) == [
        ("AZURA.PCX", 15 + 63, 7),
        ("020006J1.SB", 15 + 63 + 7, 3),
        ("C100A032.SB", 15 + 63 + 10, 5),
    ]


def test_queen_items_stream_only_the_speech_entries(tmp_path: Path) -> None:
    path = tmp_path / "queen.1c"
    speech = wav_bytes()
    write_queen(
        path, [("AZURA.PCX", b"\xff" * 100), ("JOE00011.SB", speech), ("020001P2.SB", speech[:40])]
    )
    found = list(items(Package("flight-of-the-amazon-queen", str(path), "queen", "FOTAQ")))
    assert [i.relpath for i in found] == ["020001P2.SB", "JOE00011.SB"]
    assert found[1].source_file == f"{path}:JOE00011.SB"
    with found[1].open() as stream:
        assert stream.read() == speech
        stream.seek(0)
        with AudioFile(stream) as f:  # type: ignore[arg-type]
            assert f.frames == 800 and f.samplerate == 8000


def test_queen_table_refuses_other_files(tmp_path: Path) -> None:
    (tmp_path / "other.1c").write_bytes(b"RIFF" + b"\0" * 20)
    write_queen(tmp_path / "pcm.1c", [("A.SB", b"x")], compression=0)
    for name in ("other.1c", "pcm.1c"):
        with pytest.raises(ValueError):
            read_queen_table(str(tmp_path / name))


def test_zip_kind_reads_every_archive_under_a_folder(tmp_path: Path) -> None:
    (tmp_path / "baseoa").mkdir()
    for name, members in {
        "baseoa/pak0.pk3": ["sound/world/wind1.wav", "scripts/x.shader"],
        "baseoa/pak6-misc.pk3": ["sound/feedback/excellent.wav"],
    }.items():
        with zipfile.ZipFile(tmp_path / name, "w") as archive:
            for member in members:
                archive.writestr(member, wav_bytes())
    found = list(items(Package("openarena-data", str(tmp_path), "zip", "GPL-2+")))
    assert [i.relpath for i in found] == [
        "baseoa/pak0.pk3/sound/world/wind1.wav",
        "baseoa/pak6-misc.pk3/sound/feedback/excellent.wav",
    ]
    assert found[0].source_file == f"{tmp_path}/baseoa/pak0.pk3:sound/world/wind1.wav"
    with found[1].open() as stream:
        assert stream.read() == wav_bytes()


@pytest.mark.parametrize(
    ("package", "relpath", "label", "group"),
    [
        ("flight-of-the-amazon-queen", "JOE00011.SB", "speech_male", "joe"),
        ("flight-of-the-amazon-queen", "020006J1.SB", "speech_male", "joe"),
        ("flight-of-the-amazon-queen", "03SSSSJ1.SB", "speech_male", "joe"),
        ("flight-of-the-amazon-queen", "020006P1.SB", "speech", "room-02"),
        ("flight-of-the-amazon-queen", "C100A032.SB", "speech", "room-C1"),
        ("warzone2100-data", "audio/memressp/console/pcv367.ogg", "speech_female", "advisor"),
        ("warzone2100-data", "audio/extra/pcv612.ogg", "speech", "advisor"),
        ("warzone2100-data", "audio/taunts/taunt1/haha1.ogg", "speech", "taunts"),
        ("warzone2100-data", "audio/vtoltalk/v-onway1.ogg", "speech_male", "vtoltalk"),
        ("warzone2100-data", "sequenceaudio/res_droid.ogg", "speech", "sequenceaudio"),
        ("warzone2100-data", "audio/nexus/defnut.ogg", "speech_synthetic", "nexus"),
        ("warzone2100-data", "audio/nexus/laugh1.ogg", None, None),
        ("warzone2100-data", "audio/radclick/radclik1.ogg", None, None),
        (
            "warzone2100-data",
            "audio/sfx/explons/lrgexpl.ogg",
            "explosion",
            "audio/sfx/explons/lrgexpl.ogg",
        ),
        ("warzone2100-data", "audio/sfx/weapons/rotlsr.ogg", None, None),
        ("gcin-voice", "ㄅㄚ1/3.ogg", "speech_male", "reader-3"),
        ("gcin-voice", "ㄅㄚ1/5.ogg", "speech_female", "reader-5"),
        (
            "megaglest-data",
            "techs/megapack/factions/indian/units/archer/sounds/archer_ack5.wav",
            "speech",
            "indian-archer",
        ),
        (
            "megaglest-data",
            "techs/megapack/factions/persian/units/flying_carpet/sounds/carpet_sel2.wav",
            "speech",
            "persian-flying_carpet",
        ),
        (
            "megaglest-data",
            "techs/megapack/factions/norsemen/units/valkyrie/sounds/valkyrie_select1.wav",
            "speech_female",
            "norsemen-valkyrie",
        ),
        (
            "megaglest-data",
            "techs/megapack/factions/indian/units/archer/sounds/archer_attack1.wav",
            None,
            None,
        ),
        (
            "megaglest-data",
            "techs/megapack/factions/magic/units/behemoth/sounds/behemoth_ack3.wav",
            None,
            None,
        ),
        (
            "megaglest-data",
            "tilesets/autumn/sounds/rain.ogg",
            "rain",
            "tilesets/autumn/sounds/rain.ogg",
        ),
        (
            "megaglest-data",
            "tilesets/winter/sounds/wind.ogg",
            "wind",
            "tilesets/winter/sounds/wind.ogg",
        ),
        (
            "megaglest-data",
            "tilesets/spring/sounds/day.ogg",
            "nature_ambience",
            "tilesets/spring/sounds/day.ogg",
        ),
        (
            "megaglest-data",
            "techs/megapack/factions/tech/music/music_tech.ogg",
            "music",
            "techs/megapack/factions/tech/music/music_tech.ogg",
        ),
        ("fillets-ng-data", "sound/warcraft/en/war-k-move0.ogg", "speech_male", "warcraft-k"),
        ("fillets-ng-data", "sound/elk/en/deu-p-jawohl.ogg", "speech", "elk-p"),
        ("fillets-ng-data", "music/menu.ogg", "music", "music/menu.ogg"),
        ("fillets-ng-data", "sound/linux/en/key3.ogg", None, None),
        ("fillets-ng-data", "sound/barrel/cs/bar-m-barel.ogg", None, None),  # the Czech dub's file
        ("fillets-ng-data", "sound/barrel/nl/bar-m-barel.ogg", None, None),  # the Dutch dub's file
        (
            "openarena-data",
            "baseoa/pak6-misc.pk3/sound/feedback/excellent.wav",
            "speech",
            "announcer",
        ),
        ("openarena-data", "baseoa/pak6-misc.pk3/sound/feedback/hit.wav", None, None),
        (
            "openarena-data",
            "missionpack/mp-pak0.pk3/sound/voices/festivoxmale/affirmative.wav",
            None,
            None,
        ),
        (
            "openarena-data",
            "baseoa/pak0.pk3/sound/world/drone6.wav",
            "room_tone",
            "baseoa/pak0.pk3/sound/world/drone6.wav",
        ),
        ("colobot-common-sounds", "music/Proton.ogg", "music", "music/Proton.ogg"),
        ("colobot-common-sounds", "sounds/alarm.wav", None, None),
        ("freedroidrpg-data", "music/town.ogg", "music", "music/town.ogg"),
        (
            "flare-game",
            "fantasycore/music/town_theme.ogg",
            "music",
            "fantasycore/music/town_theme.ogg",
        ),
        ("warmux-data", "music/ingame/woodlux.ogg", "music", "music/ingame/woodlux.ogg"),
        ("lincity-ng-data", "sounds/Mill2.wav", "machinery", "sounds/Mill2.wav"),
        (
            "ufoai-sound",
            "sound/ambience/droning_long.ogg",
            "room_tone",
            "sound/ambience/droning_long.ogg",
        ),
        # Held out.
        ("fillets-ng-data-nl", "barrel/nl/bar-m-barel.ogg", "speech_female", "small-fish"),
        ("fillets-ng-data-nl", "viking1/nl/dr-v-jiste.ogg", "speech_male", "big-fish"),
        ("fillets-ng-data-nl", "share/borejokes/nl/ob-m-ach.ogg", "speech_female", "small-fish"),
        ("fillets-ng-data-nl", "barrel/cs/bar-m-barel.ogg", None, None),
        ("fillets-ng-data-cs", "barrel/nl/bar-m-barel.ogg", None, None),
        ("codec2-examples", "wav/forig.wav", "speech_female", "forig"),
        ("codec2-examples", "wav/ve9qrp.wav", "speech_male", "ve9qrp"),
        ("codec2-examples", "wav/m2400.wav", None, None),
        ("codec2-examples", "wav/all.wav", None, None),
        (
            "pocketsphinx-testdata",
            "librivox/sense_and_sensibility_01_austen_64kb-0870.wav",
            "speech_male",
            "librivox",
        ),
        ("wesnoth-1.16-music", "heroes_rite.ogg", "music", "heroes_rite.ogg"),
        ("wesnoth-1.16-music", "silence.ogg", None, None),
        ("redeclipse-data", "ambience/distant_cars.ogg", "traffic", "ambience/distant_cars.ogg"),
        ("redeclipse-data", "ambience/morph/stormrain.ogg", "rain", "ambience/morph/stormrain.ogg"),
        ("redeclipse-data", "music/track_03.ogg", "music", "music/track_03.ogg"),
        ("redeclipse-data", "ambience/jumppad.ogg", None, None),
    ],
)
def test_new_sources_map_to_the_right_label(
    package: str, relpath: str, label: str | None, group: str | None
) -> None:
    entry = lookup(package, relpath)
    assert (entry and (entry.label, entry.group)) == (
        (label, f"{package}:{group}") if label else None
    )


def test_languages_come_through() -> None:
    assert lookup("gcin-voice", "ㄇㄚ3/5.ogg").language == "zh"  # type: ignore[union-attr]
    assert lookup("fillets-ng-data", "sound/elk/en/deu-l-tovarisci.ogg").language == "ru"  # type: ignore[union-attr]
    assert lookup("fillets-ng-data-nl", "barrel/nl/bar-v-hmm.ogg").language == "nl"  # type: ignore[union-attr]


def test_held_out_and_training_entries() -> None:
    held = {p for p, package in BY_NAME.items() if package.heldout}
    assert held == {
        "fillets-ng-data-nl",
        "codec2-examples",
        "pocketsphinx-testdata",
        "wesnoth-1.16-music",
        "redeclipse-data",
    }
    assert not any(
        name.startswith("asterisk-") or name == "beneath-a-steel-sky" for name in BY_NAME
    )


def test_gcin_licence_is_per_reader(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from clapsep.model.corpus import licences

    (tmp_path / "gcin-voice").mkdir()
    (tmp_path / "gcin-voice" / "copyright").write_text(
        "Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n\n"
        "Files: */3.ogg\n       REAMDE\nCopyright: 2014 Edward Der-Hua Liu\n"
        "License: GPL-3 or LGPL-3\n\n"
        "Files: */5.ogg\nCopyright: ChionMeilin\nLicense: CC-BY-3\n\n"
        "Files: debian/*\nCopyright: 2014 ChangZhuo Chen\nLicense: GPL-3\n"
    )
    monkeypatch.setattr(licences, "DOC_DIR", tmp_path)
    licences._stanzas.cache_clear()
    try:
        gcin = BY_NAME["gcin-voice"]
        assert licence_for(gcin, "ㄅㄚ1/3.ogg") == "GPL-3 or LGPL-3"
        assert licence_for(gcin, "ㄅㄚ1/5.ogg") == "CC-BY-3"
    finally:
        licences._stanzas.cache_clear()
