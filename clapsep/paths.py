"""Where clapsep-studio keeps its files on this machine."""

import os
from pathlib import Path

import platformdirs

APP_NAME = "clapsep-studio"


def user_data_dir() -> Path:
    """Per-user data: model packages, the preset library, the render cache."""
    override = os.environ.get("CLAPSEP_DATA_DIR")
    return Path(override) if override else platformdirs.user_data_path(APP_NAME)


def default_model_dir() -> Path:
    """Folder holding installed model packages (one sub-folder each)."""
    override = os.environ.get("CLAPSEP_MODEL_DIR")
    return Path(override) if override else user_data_dir() / "models"


def bundled_model_dir() -> Path:
    """The model package shipped in the checkout (`models/clapsep-bundled`), the fallback
    default."""
    return Path(__file__).resolve().parent.parent / "models" / "clapsep-bundled"
