"""The preset library: round trips, atomic files, bad files isolated, import clashes, factory
set."""

import json
from dataclasses import replace
from pathlib import Path

import pytest

from clapsep.errors import UserError
from clapsep.host.chains import EffectSpec
from clapsep.host.presets import (
    FORMAT_VERSION,
    LIBRARY_FORMAT,
    PRESET_FORMAT,
    Preset,
    PresetLibrary,
    SplitStem,
    factory_presets,
    resolve_preset,
)

FACTORY_NAMES = {
    "Dialogue",
    "Dialogue without music",
    "Music bed",
    "Footsteps",
    "Traffic",
    "Wind",
    "Birds",
    "Dog bark",
    "Applause",
    "Crowd walla",
    "Sirens",
    "Room tone",
}
SPLIT_NAMES = {"Dialogue / music / effects", "Dialogue / room tone"}


def rich_preset(name: str = "Hum removal") -> Preset:
    return Preset(
        name=name,
        category="Cleanup",
        tags=("hum", "noise"),
        notes="Targets mains hum.",
        positive_text="electrical hum",
        negative_text="a person speaking",
        positive_audio=("/refs/hum1.wav", "/refs/hum2.wav"),
        negative_audio=("/refs/voice.wav",),
        audio_weight=0.3,
        stems=("residual",),
        atten_limit_db=12.0,
        gains_db={"residual": -1.5},
        pre_chain=(EffectSpec(effect="HighpassFilter", params={"cutoff_frequency_hz": 40.0}),),
        post_chain=(EffectSpec(plugin="/plugins/Limiter.vst3", params={"ceiling": -1.0}),),
    )


@pytest.fixture
def library(tmp_path: Path) -> PresetLibrary:
    return PresetLibrary(tmp_path / "presets")


def test_factory_presets_cover_post_and_sound_design_and_say_what_they_target() -> None:
    presets = factory_presets()
    assert {p.name for p in presets} == FACTORY_NAMES | SPLIT_NAMES
    for p in presets:
        if p.split:
            assert p.notes.startswith("Splits") and p.stems[-1] == "rest", p.name
            assert all(stem.positive_text for stem in p.split), p.name
        else:
            assert p.positive_text and p.notes.startswith("Targets"), p.name
        assert p.category and p.tags


def test_a_split_preset_round_trips_and_defaults_to_every_stem_plus_rest(
    library: PresetLibrary,
) -> None:
    preset = Preset(
        name="Field layers",
        split=(
            SplitStem(name="birds", positive_text="birds singing"),
            SplitStem(name="stream", positive_text="water flowing", positive_spans=((1.0, 3.0),)),
        ),
    )
    assert preset.stems == ("birds", "stream", "rest")
    library.save(preset)
    assert PresetLibrary(library.directory).get("field layers") == preset


@pytest.mark.parametrize(
    ("split", "message"),
    [
        ([{"name": "only", "positive_text": "x"}], "at least two stems"),
        ([{"name": "a", "positive_text": "x"}, {"name": "A", "positive_text": "y"}], "differ"),
        ([{"name": "a", "positive_text": "x"}, {"name": "rest", "positive_text": "y"}], "rest"),
        ([{"name": "a", "positive_text": "x"}, {"name": "b"}], "has no query"),
        ([{"name": "a/b", "positive_text": "x"}, {"name": "b", "positive_text": "y"}], "plain"),
        ([{"name": "a", "positive_spans": [[1]]}, {"name": "b", "positive_text": "y"}], "span"),
    ],
)
def test_a_malformed_split_is_one_line_naming_the_problem(split: list, message: str) -> None:
    data = {"format": PRESET_FORMAT, "version": FORMAT_VERSION, "name": "S", "split": split}
    with pytest.raises(UserError, match=message) as caught:
        Preset.from_json(data)
    assert "\n" not in str(caught.value)


def test_a_saved_preset_round_trips_through_its_versioned_file(library: PresetLibrary) -> None:
    preset = rich_preset()
    path = library.save(preset)
    data = json.loads(path.read_text())
    assert data["format"] == PRESET_FORMAT and data["version"] == FORMAT_VERSION
    assert path.name == "hum-removal.json"
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temp file left
    fresh = PresetLibrary(library.directory)
    assert fresh.get("hum REMOVAL") == preset
    assert fresh.problems == []


def test_saving_refuses_to_replace_a_user_preset_unless_asked(library: PresetLibrary) -> None:
    library.save(rich_preset())
    with pytest.raises(UserError, match="exists"):
        library.save(rich_preset())
    changed = replace(rich_preset(), notes="Targets 50 Hz hum.")
    path = library.save(changed, overwrite=True)
    assert PresetLibrary(library.directory).get("Hum removal").notes == "Targets 50 Hz hum."
    assert len(list(path.parent.glob("*.json"))) == 1


def test_names_that_slug_alike_get_their_own_files(library: PresetLibrary) -> None:
    a = library.save(rich_preset("Dog/Bark"))
    b = library.save(rich_preset("Dog Bark"))
    assert a != b
    assert {p.name for p in PresetLibrary(library.directory).presets()} >= {"Dog/Bark", "Dog Bark"}


def test_a_user_preset_shadows_a_factory_one_until_deleted(library: PresetLibrary) -> None:
    assert library.is_factory("Wind")
    library.save(replace(library.get("Wind"), atten_limit_db=6.0))
    assert library.get("Wind").atten_limit_db == 6.0 and not library.is_factory("Wind")
    library.delete("Wind")
    assert library.get("Wind").atten_limit_db == 24 and library.is_factory("Wind")
    with pytest.raises(UserError, match="factory preset"):
        library.delete("Wind")


def test_corrupt_and_newer_files_are_reported_and_the_rest_still_load(
    library: PresetLibrary,
) -> None:
    library.save(rich_preset())
    folder = library.directory
    (folder / "broken.json").write_text("{not json")
    (folder / "future.json").write_text(
        json.dumps({**rich_preset("Later").to_json(), "version": FORMAT_VERSION + 1})
    )
    (folder / "noquery.json").write_text(
        json.dumps({"format": PRESET_FORMAT, "version": 1, "name": "Empty"})
    )
    fresh = PresetLibrary(folder)
    assert fresh.get("Hum removal") == rich_preset()
    problems = "\n".join(fresh.problems)
    assert len(fresh.problems) == 3
    assert "broken.json" in problems and "not readable JSON" in problems
    assert "future.json" in problems and "newer clapsep-studio" in problems
    assert "noquery.json" in problems and "no query" in problems


def test_import_keeps_both_presets_on_a_name_clash_and_skips_identical_ones(
    library: PresetLibrary, tmp_path: Path
) -> None:
    library.save(rich_preset())
    other = replace(rich_preset(), positive_text="buzzing hum")
    (tmp_path / "one.json").write_text(json.dumps(other.to_json()))
    assert [p.name for p in library.import_file(tmp_path / "one.json")] == ["Hum removal (2)"]
    assert library.import_file(tmp_path / "one.json") == []  # already there as "(2)"
    (tmp_path / "same.json").write_text(json.dumps(rich_preset().to_json()))
    assert library.import_file(tmp_path / "same.json") == []
    fresh = PresetLibrary(library.directory)
    assert fresh.get("Hum removal").positive_text == "electrical hum"
    assert fresh.get("Hum removal (2)").positive_text == "buzzing hum"


def test_a_factory_name_clash_on_import_is_renamed(library: PresetLibrary, tmp_path: Path) -> None:
    mine = replace(library.get("Dialogue"), negative_text="a dog barking")
    (tmp_path / "d.json").write_text(json.dumps(mine.to_json()))
    assert [p.name for p in library.import_file(tmp_path / "d.json")] == ["Dialogue (2)"]
    assert library.get("Dialogue").negative_text != "a dog barking"


def test_export_writes_one_preset_or_a_whole_library_and_import_reads_both(
    library: PresetLibrary, tmp_path: Path
) -> None:
    library.save(rich_preset("A"))
    library.save(rich_preset("B"))
    library.export(["A"], tmp_path / "a.json")
    assert json.loads((tmp_path / "a.json").read_text())["format"] == PRESET_FORMAT
    library.export(["A", "B", "Birds"], tmp_path / "lib.json")
    data = json.loads((tmp_path / "lib.json").read_text())
    assert data["format"] == LIBRARY_FORMAT and [p["name"] for p in data["presets"]] == [
        "A",
        "B",
        "Birds",
    ]
    elsewhere = PresetLibrary(tmp_path / "other")
    assert [p.name for p in elsewhere.import_file(tmp_path / "lib.json")] == [
        "A",
        "B",
    ]  # Birds is identical
    assert elsewhere.get("B") == rich_preset("B")


def test_a_preset_resolves_by_name_or_by_file(library: PresetLibrary, tmp_path: Path) -> None:
    (tmp_path / "mine.json").write_text(json.dumps(rich_preset("Mine").to_json()))
    assert resolve_preset(str(tmp_path / "mine.json"), library).name == "Mine"
    assert resolve_preset("dog bark", library).name == "Dog bark"
    with pytest.raises(UserError, match="no preset named 'Nope'"):
        resolve_preset("Nope", library)
    with pytest.raises(UserError, match="no such file"):
        resolve_preset(str(tmp_path / "absent.json"), library)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"name": " "}, "needs a name"),
        (
            {"positive_text": "", "negative_text": "", "positive_audio": (), "negative_audio": ()},
            "no query",
        ),
        ({"audio_weight": 1.5}, "audio weight"),
        ({"stems": ("drums",)}, "stems"),
        ({"atten_limit_db": -3.0}, "attenuation"),
    ],
)
def test_invalid_presets_are_refused_with_a_reason(change: dict, message: str) -> None:
    with pytest.raises(UserError, match=message):
        replace(rich_preset(), **change)


def test_malformed_json_fields_are_user_errors() -> None:
    data = rich_preset().to_json()
    with pytest.raises(UserError, match="unknown preset field"):
        Preset.from_json({**data, "colour": "red"})
    with pytest.raises(UserError, match="unknown effect 'Fuzz'"):
        Preset.from_json({**data, "pre_chain": [{"effect": "Fuzz"}]})
    with pytest.raises(UserError, match="malformed value"):
        Preset.from_json({**data, "audio_weight": "lots"})
    with pytest.raises(UserError, match="tags must be a list"):
        Preset.from_json({**data, "tags": "hum"})
    with pytest.raises(UserError, match="not a clapsep-preset"):
        Preset.from_json({"name": "x"})


def test_a_query_laid_over_a_preset_replaces_only_the_sides_it_gives() -> None:
    laid = Preset.with_query(rich_preset(), negative_text="birds chirping", audio_weight=0.75)
    assert (laid.name, laid.positive_text, laid.positive_audio) == (
        "Hum removal",
        "electrical hum",
        ("/refs/hum1.wav", "/refs/hum2.wav"),
    )
    assert (laid.negative_text, laid.negative_audio, laid.audio_weight) == (
        "birds chirping",
        (),
        0.75,
    )
    assert laid.gains_db == {"residual": -1.5} and laid.stems == ("residual",)
    assert Preset.with_query(rich_preset()) == rich_preset()


def test_a_query_without_a_preset_is_named_by_its_first_words() -> None:
    assert Preset.with_query(None, "a man speaking over road traffic").name == "a man speaking over"
    assert Preset.with_query(None, negative_text="wind noise").slug == "wind-noise"
    assert Preset.with_query(None, positive_audio=["/refs/dog.wav"]).name == "audio query"
    assert Preset.with_query(None, "rain", name="Storm").name == "Storm"
