"""The file-based front ends: `clapsep job` (result manifests) and `clapsep otio` (stem tracks)."""

import json
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pytest
from test_bridge_support import read, write_noise

from clapsep.host.cli import main

pytest_plugins = ["test_bridge_support"]  # the home fixture (`package` is conftest's)
RT, TR = otio.opentime.RationalTime, otio.opentime.TimeRange


def test_job_file_writes_a_result_manifest_with_positions(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    source = home / "media" / "take.wav"
    x = write_noise(source, 3, 44100, 2)
    job = home / "job.json"
    job.write_text(
        json.dumps(
            {
                "format": "clapsep-job",
                "version": 1,
                "query": {"positive": "a dog barks"},
                "stems": ["target", "residual"],
                "clips": [
                    {
                        "id": "{GUID-1}",
                        "source": str(source),
                        "source_in": 0.5,
                        "source_out": 2.0,
                        "position": 12.25,
                        "track": "Drums",
                    },
                    {
                        "id": "{GUID-2}",
                        "source": str(home / "media" / "missing.wav"),
                        "position": 1,
                    },
                ],
            }
        )
    )
    # the spelling, `render --job`, is `clapsep job`
    assert (
        main(["render", "--device", "cpu", "--job", str(job)]) == 2
    )  # the missing file fails its clip only
    result = json.loads((home / "job.result.json").read_text())
    assert (home / "job.result.json.progress").read_text().strip() == "1.00"
    assert result["format"] == "clapsep-job-result" and result["status"] == "failed"
    ok, missing = result["clips"]
    assert (ok["id"], ok["error"], missing["id"]) == (
        "{GUID-1}",
        None,
        "{GUID-2}",
    ) and "missing.wav" in missing["error"]
    stems = {s["stem"]: s for s in ok["stems"]}
    assert {s["position"] for s in stems.values()} == {12.25} and stems["target"][
        "frames"
    ] == round(1.5 * 44100)
    assert Path(stems["target"]["path"]).parent.parent == home / "job-stems"
    np.testing.assert_allclose(
        read(stems["target"]["path"]) + read(stems["residual"]["path"]),
        x[:, 22050:88200],
        atol=1e-5,
    )
    capsys.readouterr()


def test_a_split_job_places_every_stem_at_the_clip_and_they_sum_to_its_section(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    source = home / "media" / "scene.wav"
    x = write_noise(source, 3, 44100, 2)
    spans_only = {"source": str(source), "source_in": 1.0, "position": 4.0, "track": "Dia"}
    job = home / "split.json"
    job.write_text(
        json.dumps(
            {
                "split": [
                    {"name": "dialogue", "positive": "a person speaking"},
                    {"name": "music", "positive": "music playing"},
                    {"name": "effects", "positive": "footsteps and doors"},
                ],
                "clips": [spans_only],
            }
        )
    )
    assert main(["job", str(job), "--device", "cpu"]) == 0
    (clip,) = json.loads((home / "split.result.json").read_text())["clips"]
    assert [s["stem"] for s in clip["stems"]] == ["dialogue", "music", "effects", "rest"]
    assert {s["position"] for s in clip["stems"]} == {4.0}
    total = sum(read(s["path"]) for s in clip["stems"])
    np.testing.assert_allclose(total, x[:, 44100:], atol=1e-5)
    spans = home / "spans.json"
    spans.write_text(
        json.dumps(
            {
                "query": {"positive": "a dog barks"},
                "clips": [{**spans_only, "query_spans": [[0.2, 0.9]], "negative_spans": [[2, 3]]}],
            }
        )
    )
    assert main(["job", str(spans), "--device", "cpu"]) == 0
    (clip,) = json.loads((home / "spans.result.json").read_text())["clips"]
    assert clip["error"] is None and [s["stem"] for s in clip["stems"]] == ["target", "residual"]
    split_spans = home / "split-spans.json"  # a DAW region on a split preset: refused by name
    split_spans.write_text(
        json.dumps(
            {
                "preset": "Dialogue / music / effects",
                "clips": [{**spans_only, "query_spans": [[0.2, 0.9]]}],
            }
        )
    )
    assert main(["job", str(split_spans), "--device", "cpu"]) == 2
    error = json.loads((home / "split-spans.result.json").read_text())["error"]
    assert "not to the split preset 'Dialogue / music / effects'" in error
    capsys.readouterr()


def test_a_bad_job_file_still_gets_a_manifest_saying_why(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    job = home / "bad.json"
    job.write_text(
        json.dumps(
            {"clips": [{"source": "/x.wav", "source_in": 2, "source_out": 1}], "preset": "Dialogue"}
        )
    )
    assert main(["job", str(job), "--device", "cpu"]) == 2
    result = json.loads((home / "bad.result.json").read_text())
    assert result["status"] == "failed" and "source_out must be after source_in" in result["error"]
    capsys.readouterr()


def _clip(
    name: str, path: Path, start: RT, duration: RT, available: TR | None = None
) -> otio.schema.Clip:
    ref = otio.schema.ExternalReference(otio.url_utils.url_from_filepath(str(path)), available)
    return otio.schema.Clip(name, media_reference=ref, source_range=TR(start, duration))


def test_otio_round_trip_keeps_positions_across_gaps_offsets_and_two_tracks(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    media = home / "media"
    a, b, c = (
        write_noise(media / "a.wav", 3, 48000, 1, 1),
        write_noise(media / "b.wav", 3, 44100, 2, 2),
        write_noise(media / "c.wav", 2, 48000, 1, 3),
    )
    timeline = otio.schema.Timeline("edit")
    dialog = otio.schema.Track("Dialog", kind=otio.schema.TrackKind.Audio)
    dialog.append(
        otio.schema.Gap(source_range=TR(RT(0, 24), RT(12, 24)))
    )  # 0.5 s in frames at 24 fps
    dialog.append(
        _clip("A", media / "a.wav", RT(12000, 48000), RT(48000, 48000))
    )  # 0.25 s into a.wav
    dialog.append(otio.schema.Gap(source_range=TR(RT(0, 48000), RT(14400, 48000))))
    hour = RT(3600 * 44100, 44100)  # media that starts at timecode 01:00:00:00
    dialog.append(
        _clip(
            "B",
            media / "b.wav",
            hour + RT(22050, 44100),
            RT(44100, 44100),
            TR(hour, RT(3 * 44100, 44100)),
        )
    )
    music = otio.schema.Track("Music", kind=otio.schema.TrackKind.Audio)
    music.append(_clip("C", media / "c.wav", RT(0, 48000), RT(96000, 48000)))
    video = otio.schema.Track("V1", kind=otio.schema.TrackKind.Video)
    timeline.tracks.extend([video, dialog, music])
    source, out = home / "edit.otio", home / "edit-stems.otio"
    otio.adapters.write_to_file(timeline, str(source))

    code = main(
        [
            "render",
            f"--otio={source}",
            "--out",
            str(out),
            "--track",
            "Dialog",
            "--track",
            "Music",
            "--query",
            "a person speaking",
            "--device",
            "cpu",
        ]
    )
    assert code == 0, capsys.readouterr().err
    result = otio.adapters.read_from_file(str(out))
    names = [t.name for t in result.tracks]
    assert names == [
        "V1",
        "Dialog",
        "Music",
        "Dialog - target",
        "Dialog - residual",
        "Music - target",
        "Music - residual",
    ]
    expected = {
        "A": (0.5, a[:, 12000:60000]),
        "B": (1.8, b[:, 22050:66150]),
        "C": (0.0, c[:, :96000]),
    }
    for track in result.tracks[3:]:
        clips = [item for item in track if isinstance(item, otio.schema.Clip)]
        assert len(clips) == (2 if track.name.startswith("Dialog") else 1)
        for clip in clips:
            origin = clip.metadata["clapsep"]["source_clip"]
            position, section = expected[origin]
            placed = track.range_of_child(clip)
            assert placed.start_time.to_seconds() == pytest.approx(position, abs=1e-9)
            assert clip.source_range.duration.value == section.shape[1]
            assert clip.metadata["clapsep"]["query"]["query"]["positive"] == "a person speaking"
    for origin, (_, section) in expected.items():
        paths = [
            otio.url_utils.filepath_from_url(clip.media_reference.target_url)
            for track in result.tracks[3:]
            for clip in track
            if isinstance(clip, otio.schema.Clip)
            and clip.metadata["clapsep"]["source_clip"] == origin
        ]
        assert len(paths) == 2
        np.testing.assert_allclose(read(paths[0]) + read(paths[1]), section, atol=1e-5)
    assert otio.adapters.read_from_file(str(source)).tracks[1].name == "Dialog"  # input untouched


def _one_clip_timeline(home: Path, markers: list[otio.schema.Marker]) -> Path:
    """A timeline with one 3 s clip of noise on track "Dia", starting 1 s into its file."""
    write_noise(home / "media" / "scene.wav", 4, 48000, 1, 5)
    clip = _clip("S", home / "media" / "scene.wav", RT(48000, 48000), RT(3 * 48000, 48000))
    clip.markers.extend(markers)
    track = otio.schema.Track("Dia", kind=otio.schema.TrackKind.Audio)
    track.append(clip)
    timeline = otio.schema.Timeline("scene")
    timeline.tracks.append(track)
    path = home / f"scene-{len(markers)}.otio"
    otio.adapters.write_to_file(timeline, str(path))
    return path


def test_otio_split_adds_a_track_per_stem_and_they_sum_to_the_clip(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    source, out = _one_clip_timeline(home, []), home / "split-out.otio"
    splits = ["--split", "dialogue=a person speaking", "--split", "music=music playing"]
    assert main(["otio", str(source), "--out", str(out), *splits, "--device", "cpu"]) == 0
    result = otio.adapters.read_from_file(str(out))
    assert [t.name for t in result.tracks] == ["Dia", "Dia - dialogue", "Dia - music", "Dia - rest"]
    paths = []
    for track in result.tracks[1:]:
        (clip,) = [item for item in track if isinstance(item, otio.schema.Clip)]
        assert track.range_of_child(clip).start_time.to_seconds() == 0.0
        paths.append(otio.url_utils.filepath_from_url(clip.media_reference.target_url))
    section = read(home / "media" / "scene.wav")[:, 48000 : 4 * 48000]
    np.testing.assert_allclose(sum(read(p) for p in paths), section, atol=1e-5)
    capsys.readouterr()


def test_otio_target_and_remove_markers_become_query_spans_of_the_clip(
    home: Path, capsys: pytest.CaptureFixture
) -> None:
    def target_of(markers: list[otio.schema.Marker], name: str) -> np.ndarray:
        source, out = _one_clip_timeline(home, markers), home / f"{name}.otio"
        args = ["otio", str(source), "--out", str(out), "--query", "a dog barks"]
        assert main([*args, "--device", "cpu"]) == 0, capsys.readouterr().err
        (clip,) = otio.adapters.read_from_file(str(out)).tracks[1]
        return read(otio.url_utils.filepath_from_url(clip.media_reference.target_url))

    def marker(name: str, start: float, seconds: float) -> otio.schema.Marker:
        return otio.schema.Marker(name, TR(RT(start * 48000, 48000), RT(seconds * 48000, 48000)))

    plain = target_of([], "plain")
    spans = target_of([marker("Target", 1.5, 1.0), marker("remove", 3.0, 0.5)], "spans")
    other = target_of([marker("note to self", 1.5, 1.0)], "other")
    assert np.abs(spans - plain).max() > 1e-4  # the spans changed the condition
    np.testing.assert_array_equal(other, plain)  # other markers are comments
    source = _one_clip_timeline(home, [otio.schema.Marker("target", TR(RT(48000, 48000)))])
    code = main(["otio", str(source), "--out", str(home / "p.otio"), "--device", "cpu"])
    assert code == 2 and "marks a point; give it a duration" in capsys.readouterr().err
