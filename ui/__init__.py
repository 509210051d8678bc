"""The PyQt6 panel: preset library, clip list, render, before/after."""
