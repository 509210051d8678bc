"""The before/after view and the audition mix on real files (no model): named stems with
solo/mute/level, seamless level-matched A/B, seek, loop, zoom, in/out, span marking, the
render command the spans become, and results dragged out as file URLs."""

import itertools
from pathlib import Path

import numpy as np
import pytest
from pedalboard.io import AudioFile
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QWheelEvent
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication

from clapsep.host.audio_io import Section
from clapsep.host.render import RenderedStem
from clapsep.ui.audition import Audition, MixDevice
from clapsep.ui.clip_list import ClipList, ResultList
from clapsep.ui.command import render_command
from clapsep.ui.compare_view import CompareView
from clapsep.ui.render_worker import PanelClip, PanelClipResult
from clapsep.ui.timeline import Span

RATE = 22050
SPLIT = ("dialogue", "music", "effects", "rest")


def write(path: Path, x: np.ndarray) -> Path:
    with AudioFile(str(path), "w", RATE, 1) as f:
        f.write(x[None].astype(np.float32))
    return path


@pytest.fixture
def split(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    """A 3 s source and four stems that sum to it: a 220 Hz tone (dialogue), 660 Hz (music),
    noise bursts (effects) and a quiet hum (rest)."""
    t = np.arange(3 * RATE) / RATE
    parts = {
        "dialogue": 0.3 * np.sin(2 * np.pi * 220 * t),
        "music": 0.2 * np.sin(2 * np.pi * 660 * t),
        "effects": 0.1 * np.random.default_rng(0).standard_normal(t.size) * (t % 1 < 0.3),
        "rest": 0.02 * np.sin(2 * np.pi * 50 * t),
    }
    stems = {name: write(tmp_path / f"clip_{name}.wav", x) for name, x in parts.items()}
    return write(tmp_path / "clip.wav", sum(parts.values())), stems


def pull(audition: Audition, frames: int) -> np.ndarray:
    """Read the mix as the audio sink does: bytes from the QIODevice."""
    device = MixDevice(audition.mixer, audition_format())
    data = device.read(frames * 4 * audition.mixer.channels)
    return np.frombuffer(data, "<f4").reshape(-1, audition.mixer.channels).T


def audition_format():
    from PyQt6.QtMultimedia import QAudioFormat

    return QAudioFormat.SampleFormat.Float


def test_a_b_switch_keeps_the_position_and_ramps_without_a_click(qtbot, split) -> None:
    _, stems = split
    with AudioFile(str(stems["dialogue"])) as f:
        dialogue = f.read(f.frames)[0]
    with AudioFile(str(stems["music"])) as f:
        source = write(stems["music"].with_name("tones.wav"), dialogue + f.read(f.frames)[0])
    audition = Audition()
    audition.set_tracks(source, {"dialogue": stems["dialogue"]})
    audition.set_level_match(False)
    before = pull(audition, 4417)  # 660 Hz at its peak: a hard cut would jump
    audition.toggle()  # to B while "playing": no restart
    assert audition.mixer.position == 4417
    after = pull(audition, 4410)
    joined = np.concatenate([before, after], axis=1)[0]
    steepest = np.abs(np.diff(dialogue + 0.2)).max() + 0.2 * 2 * np.pi * 660 / RATE
    assert np.abs(np.diff(joined)).max() <= steepest  # a hard switch jumps by up to 0.2 more
    np.testing.assert_allclose(after[0, 400:], dialogue[4817:8827], atol=1e-6)


def test_level_match_plays_side_b_at_the_source_loudness(qtbot, split) -> None:
    source, stems = split
    audition = Audition()
    audition.set_tracks(source, {"music": stems["music"]})
    audition.toggle()
    b = pull(audition, 3 * RATE)[:, 2000:]
    audition.mixer.seek(0)
    audition.toggle()
    a = pull(audition, 3 * RATE)[:, 2000:]
    assert abs(20 * np.log10(np.sqrt(np.mean(b**2)) / np.sqrt(np.mean(a**2)))) < 0.5
    assert "level-matched" in (audition.toggle() or audition.describe())


def test_solo_mute_and_level_shape_side_b_of_any_number_of_named_stems(qtbot, split) -> None:
    source, stems = split
    audition = Audition()
    audition.set_tracks(source, dict(stems))
    audition.set_level_match(False)
    audition.toggle()
    full = pull(audition, 3 * RATE)
    with AudioFile(str(source)) as f:
        np.testing.assert_allclose(full[0, 400:], f.read(f.frames)[0, 400:], atol=3e-4)
    audition.set_stem("music", soloed=True)
    audition.set_stem("rest", gain_db=-6.0, soloed=True)
    audition.set_stem("rest", muted=True)
    audition.mixer.seek(0)
    soloed = pull(audition, 3 * RATE)
    with AudioFile(str(stems["music"])) as f:
        np.testing.assert_allclose(soloed[0, 400:], f.read(f.frames)[0, 400:], atol=1e-6)
    assert "clip_music.wav" in audition.describe() and "clip_rest" not in audition.describe()


def test_seek_and_loop_move_every_track_together(qtbot, split) -> None:
    source, stems = split
    audition = Audition()
    audition.set_tracks(source, dict(stems), Section(0.0, 3.0))
    audition.seek(1.0)
    assert audition.mixer.position == RATE and audition.position() == pytest.approx(1.0)
    audition.set_loop((1.0, 1.5), on=True)
    pull(audition, RATE)  # one second from 1.0 s inside a 0.5 s loop: wraps twice
    assert audition.position() == pytest.approx(1.0, abs=1e-3)


def test_the_view_shows_a_row_with_solo_mute_level_and_drag_per_named_stem(qtbot, split) -> None:
    source, stems = split
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show_files(source, dict(stems))
    assert list(view.rows) == ["source", *SPLIT] and list(view.strips) == list(SPLIT)
    assert all(view.rows[n].preview is not None for n in SPLIT)
    changes = []
    view.stemChanged.connect(lambda *a: changes.append(a))
    view.strips["music"].solo.click()
    view.strips["rest"].level.setValue(-12.0)
    assert changes[-2:] == [("music", 0.0, False, True), ("rest", -12.0, False, False)]
    urls = view.strips["effects"].handle.mime_data().urls()
    assert [u.toLocalFile() for u in urls] == [str(stems["effects"])]
    view.grab()


def test_click_seeks_ruler_drag_sets_the_loop_and_ctrl_wheel_zooms(qtbot, split) -> None:
    source, stems = split
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    view.show_files(source, {"dialogue": stems["dialogue"]})
    qtbot.waitExposed(view)
    QApplication.processEvents()
    row, ruler = view.rows["dialogue"], view.ruler
    with qtbot.waitSignal(view.timeline.seekRequested) as seek:
        QTest.mouseClick(row, Qt.MouseButton.LeftButton, pos=QPoint(row.width() // 2, 20))
    assert seek.args[0] == pytest.approx(1.5, abs=0.02)
    QTest.mousePress(ruler, Qt.MouseButton.LeftButton, pos=QPoint(ruler.width() // 3, 10))
    QTest.mouseMove(ruler, QPoint(2 * ruler.width() // 3, 10))
    QTest.mouseRelease(ruler, Qt.MouseButton.LeftButton, pos=QPoint(2 * ruler.width() // 3, 10))
    assert view.timeline.loop == pytest.approx((1.0, 2.0), abs=0.02)
    wheel = QWheelEvent(
        QPointF(row.width() / 2, 20),
        QPointF(),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(row, wheel)
    v0, v1 = view.timeline.view
    assert v1 - v0 == pytest.approx(3.0 / 1.25) and (v0 + v1) / 2 == pytest.approx(1.5, abs=0.02)


def drag(widget, x0: int, x1: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, modifier, QPoint(x0, 30))
    QTest.mouseMove(widget, QPoint(x1, 30))
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, modifier, QPoint(x1, 30))


def test_drags_on_the_source_mark_target_and_remove_spans_and_right_click_removes_one(
    qtbot, split
) -> None:
    source, _ = split
    view = CompareView()
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    view.show_files(source, {})
    qtbot.waitExposed(view)
    QApplication.processEvents()  # the layout gives the rows their width
    row, w = view.rows["source"], view.rows["source"].width()
    drag(row, w // 6, w // 3, Qt.KeyboardModifier.ShiftModifier)  # 0.5-1.0 s
    drag(row, w // 2, 2 * w // 3, Qt.KeyboardModifier.AltModifier)  # 1.5-2.0 s
    view.mode.setCurrentIndex(1)  # the mode toggle: a plain drag marks a target span
    drag(row, 5 * w // 6, w - 1)
    kinds = [(s.kind, round(s.start, 1), round(s.end, 1)) for s in view.timeline.spans]
    assert kinds == [("target", 0.5, 1.0), ("remove", 1.5, 2.0), ("target", 2.5, 3.0)]
    image = row.grab().toImage()
    remove_px = image.pixelColor(int(w * 0.58), row.height() - 20)
    assert remove_px.red() > remove_px.green()  # the remove span is drawn red over the view
    QTest.mouseClick(row, Qt.MouseButton.RightButton, pos=QPoint(int(w * 0.58), 30))
    assert [s.kind for s in view.timeline.spans] == ["target", "target"]
    view.buttons["Clear spans"].click()
    assert view.timeline.spans == []


def test_spans_and_in_out_become_the_render_commands_arguments(tmp_path: Path) -> None:
    spans = [Span(0.5, 1.25, "target"), Span(2.0, 2.5, "remove"), Span(3.0, 3.5, "target")]
    argv = render_command(
        tmp_path / "take.wav",
        tmp_path / "p.json",
        tmp_path,
        (0.25, 4.0),
        spans,
        ["--device", "cpu"],
    )
    assert argv[1:3] == ["render", str(tmp_path / "take.wav")]
    pairs = list(itertools.pairwise(argv))
    assert [v for k, v in pairs if k == "--query-span"] == ["0.5:1.25", "3:3.5"]
    assert [v for k, v in pairs if k == "--negative-span"] == ["2:2.5"]
    assert ("--start", "0.25") in pairs and ("--end", "4") in pairs
    assert ("--preset", str(tmp_path / "p.json")) in pairs and "--json" in argv
    assert argv[-2:] == ["--device", "cpu"]
    no_spans = render_command(tmp_path / "take.wav", tmp_path / "p.json", tmp_path)
    assert "--query-span" not in no_spans and "--start" not in no_spans


def test_in_out_on_the_timeline_is_the_clip_items_section(qtbot, split) -> None:
    source, _ = split
    clips, view = ClipList(), CompareView()
    qtbot.addWidget(clips)
    qtbot.addWidget(view)
    clip = PanelClip(source)
    clips.add_clips([clip])
    view.show_files(source, {})
    view.timeline.set_playhead(0.5)
    view.buttons["Set in"].click()
    view.timeline.set_playhead(2.0)
    view.buttons["Set out"].click()
    new = clips.set_section(clip, Section(*view.timeline.section))
    assert clips.clips() == [new] and new.section == Section(0.5, 2.0)
    assert "[0.5–2 s]" in clips.item(0).text()
    clips.set_spans(new, [Span(0.6, 0.9, "target")])
    assert clips.all_spans() == {new: [Span(0.6, 0.9, "target")]}


def test_results_drag_out_as_file_urls(qtbot, split) -> None:
    source, stems = split
    results = ResultList()
    qtbot.addWidget(results)
    rendered = tuple(RenderedStem(source, n, p, 3 * RATE, RATE, 1) for n, p in stems.items())
    results.add_result(PanelClipResult(PanelClip(source), rendered, False))
    items = [results.item(0), results.item(2)]
    urls = results.mimeData(items).urls()
    assert [u.toLocalFile() for u in urls] == [str(stems["dialogue"]), str(stems["effects"])]
    assert results.dragEnabled()
