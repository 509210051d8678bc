"""Lists that take files dropped from the desktop or a DAW's file browser, and the clip list.

Drops arrive as file URLs (`mimeData().hasUrls()`); only local files with an accepted
suffix are taken, so a stray folder or web link never becomes a clip. Each clip item
carries the clip (its in/out is the clip's section, what the render renders) and its
marked spans; results drag out as file URLs.
"""

from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from PyQt6.QtCore import QItemSelectionModel, QMimeData, Qt, QUrl, pyqtSignal
from PyQt6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PyQt6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from clapsep.host.audio_io import AUDIO_SUFFIXES, Section
from clapsep.ui.render_worker import PanelClip, PanelClipResult
from clapsep.ui.timeline import Span

SPANS_ROLE = Qt.ItemDataRole.UserRole + 1


def local_files(mime: QMimeData, suffixes: Iterable[str]) -> list[Path]:
    """Local files among the dropped URLs whose suffix is accepted."""
    accepted = {s.lower() for s in suffixes}
    if not mime.hasUrls():
        return []
    paths = (Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile())
    return [p for p in paths if p.suffix.lower() in accepted and p.is_file()]


class FileDropList(QListWidget):
    """A list that emits `filesDropped` with the accepted files of a drop."""

    filesDropped = pyqtSignal(list)

    def __init__(self, suffixes: Iterable[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.suffixes = frozenset(suffixes)
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)

    def remove_selected(self) -> None:
        for item in self.selectedItems():
            self.takeItem(self.row(item))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if local_files(event.mimeData(), self.suffixes):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        files = local_files(event.mimeData(), self.suffixes)
        if files:
            event.acceptProposedAction()
            self.filesDropped.emit(files)


class ClipList(FileDropList):
    """The clips to render: dropped files and jobs from the bridge, each shown once."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(AUDIO_SUFFIXES, parent)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setToolTip("Drop audio files here (wav, flac, aiff, mp3, ogg)")
        self.filesDropped.connect(lambda paths: self.add_clips(PanelClip(p) for p in paths))

    def clips(self) -> list[PanelClip]:
        return [self.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.count())]

    def selected_clips(self) -> list[PanelClip]:
        """The selected clips, or all of them when none is selected."""
        chosen = [item.data(Qt.ItemDataRole.UserRole) for item in self.selectedItems()]
        return chosen or self.clips()

    def current_clip(self) -> PanelClip | None:
        item = self.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)

    def add_clips(self, clips: Iterable[PanelClip]) -> int:
        """Append new clips (a clip already listed is skipped); returns how many were added."""
        known = set(self.clips())
        added = 0
        for clip in clips:
            if clip in known:
                continue
            known.add(clip)
            item = QListWidgetItem(self._label(clip, ""))
            item.setData(Qt.ItemDataRole.UserRole, clip)
            item.setToolTip(str(clip.path))
            self.addItem(item)
            added += 1
        if (
            added and self.currentItem() is None
        ):  # shown in before/after, not selected: Render takes all
            self.setCurrentRow(0, QItemSelectionModel.SelectionFlag.NoUpdate)
        return added

    def _item(self, clip: PanelClip) -> QListWidgetItem | None:
        found = (self.item(i) for i in range(self.count()))
        return next((it for it in found if it.data(Qt.ItemDataRole.UserRole) == clip), None)

    def set_section(self, clip: PanelClip, section: Section | None) -> PanelClip:
        """Give the clip new in/out (None: the whole file); returns the clip as now listed."""
        item = self._item(clip)
        if item is None or clip.section == section:
            return clip
        new = replace(clip, section=section)
        item.setData(Qt.ItemDataRole.UserRole, new)
        item.setText(self._label(new, ""))
        return new

    def spans(self, clip: PanelClip) -> list[Span]:
        item = self._item(clip)
        return list(item.data(SPANS_ROLE) or []) if item is not None else []

    def set_spans(self, clip: PanelClip, spans: Sequence[Span]) -> None:
        if (item := self._item(clip)) is not None:
            item.setData(SPANS_ROLE, list(spans))
            item.setToolTip(
                str(clip.path) + "".join(f"\n{s.kind} span {s.start:g}–{s.end:g} s" for s in spans)
            )

    def all_spans(self) -> dict[PanelClip, list[Span]]:
        return {clip: spans for clip in self.clips() if (spans := self.spans(clip))}

    def mark(self, clip: PanelClip, state: str) -> None:
        """Show a clip's render state ("rendered", "cached", "failed", ...) beside its name."""
        for i in range(self.count()):
            if self.item(i).data(Qt.ItemDataRole.UserRole) == clip:
                self.item(i).setText(self._label(clip, state))

    @staticmethod
    def _label(clip: PanelClip, state: str) -> str:
        parts = [clip.path.name]
        if clip.section is not None:
            end = "end" if clip.section.end is None else f"{clip.section.end:g}"
            parts.append(
                f"[{clip.section.start:g}–{end} {'s' if clip.section.unit == 'seconds' else 'smp'}]"
            )
        if clip.origin != "desktop":
            parts.append(f"({clip.origin})")
        if state:
            parts.append(f"· {state}")
        return " ".join(parts)


class ResultList(QListWidget):
    """Written stems, newest last, each file once; each item carries its file path and drags
    out as a file URL (into a DAW or a file manager)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setDefaultDropAction(Qt.DropAction.CopyAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        mime = QMimeData()
        paths = (item.data(Qt.ItemDataRole.UserRole) for item in items)
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths if p is not None])
        return mime

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def add_result(self, result: PanelClipResult) -> None:
        cached = ", from cache" if result.cached else ""
        self.add_files([(s.path, f"{s.path.name}  ({s.stem}{cached})") for s in result.stems])

    def add_files(self, files: Sequence[tuple[Path, str]]) -> None:
        """List (path, label) pairs; a file listed before is replaced (a render again)."""
        paths = {path for path, _ in files}
        for row in reversed(range(self.count())):
            if self.item(row).data(Qt.ItemDataRole.UserRole) in paths:
                self.takeItem(row)
        for path, text in files:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, path)
            item.setToolTip(str(path))
            self.addItem(item)

    def current_path(self) -> Path | None:
        item = self.currentItem()
        return None if item is None else item.data(Qt.ItemDataRole.UserRole)
