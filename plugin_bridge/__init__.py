"""Local render service and DAW adapters: selected clips in, stems back on the timeline."""
