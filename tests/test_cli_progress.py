"""Terminal progress of renders and batches: drawn only on a terminal, in seconds of audio,
a batch's inputs weighted by their lengths, and per-file lines printed above the bar."""

import io

from clapsep.host.cli.progress import BatchProgress, ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_render_bar_draws_speed_and_time_left_only_on_a_terminal() -> None:
    terminal, log = Terminal(), io.StringIO()
    for stream in (terminal, log):
        bar = ProgressBar("take.wav", 20.0, True, stream)
        bar(0.5)
        bar(1.0)
        bar.close()
    assert "take.wav 100%" in terminal.getvalue() and "s audio/s" in terminal.getvalue()
    assert log.getvalue() == ""


def test_a_batch_bar_weights_each_file_by_its_length_and_never_goes_back() -> None:
    terminal = Terminal()
    progress = BatchProgress([1.0, 3.0], True, terminal)
    progress(1, 1.0)
    assert progress.bar.bar is not None and progress.bar.bar.n == 3.0  # 75 % of the audio
    progress(1, 0.5)  # a late report of the same file
    assert progress.bar.bar.n == 3.0
    progress.write("[1/2] rendered  b.wav")
    progress(0, 1.0)
    progress.close()
    text = terminal.getvalue()
    assert "[1/2] rendered  b.wav" in text and "2 files 100%" in text


def test_a_batch_off_a_terminal_prints_its_file_lines_plainly() -> None:
    log = io.StringIO()
    progress = BatchProgress([2.0], True, log)
    progress(0, 1.0)
    progress.write("[1/1] rendered  a.wav")
    progress.close()
    assert log.getvalue() == "[1/1] rendered  a.wav\n"
