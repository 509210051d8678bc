"""The Debian packages the corpus may be built from, where they install, and how to get them.

These and only these are training sources (docs: open-audio-sources.md); evaluation
mixtures come from other sources. Nothing from them is ever committed: they are
installed on the build machine, and every file used is listed with its licence.
"""

import os
import subprocess
from dataclasses import dataclass

from model.corpus.errors import CorpusError


@dataclass(frozen=True)
class Package:
    name: str
    root: str  # installed folder, or the container file for "zip" / "cat" / the program for generators
    kind: str  # "files", "zip" (a .pk3), "cat" (OpenTTD sound catalogue), "midi" (a SoundFont), "tts"
    licence: str  # when the copyright file does not say per file
    copyright_prefix: str | None = None  # root-relative path -> path in debian/copyright; None: not DEP-5
    apt: tuple[str, ...] = ()  # further apt packages it needs

    def installed(self) -> bool:
        return os.path.exists(self.root)

    def apt_packages(self) -> tuple[str, ...]:
        return (self.name, *self.apt)


CATALOG: tuple[Package, ...] = (
    Package("fillets-ng-data-cs", "/usr/share/games/fillets-ng/sound", "files", "GPL-2+"),
    Package("tuxpaint-stamps-default", "/usr/share/tuxpaint/stamps", "files", "GPL-2", copyright_prefix=""),
    Package("ktuberling-data", "/usr/share/ktuberling/sounds", "files", "GPL-2+", copyright_prefix="sounds/"),
    Package("hedgewars-data", "/usr/share/games/hedgewars/Data", "files", "GPL-2",
            copyright_prefix="share/hedgewars/Data/"),
    Package("sonic-pi-samples", "/usr/share/sonic-pi/samples", "files", "CC0", copyright_prefix="etc/samples/"),
    Package("hydrogen-data", "/usr/share/hydrogen/data/drumkits", "files", "GPL-2+",
            copyright_prefix="data/drumkits/"),
    Package("ufoai-sound", "/usr/share/games/ufoai/base/0snd.pk3", "zip", "GPL-2+", copyright_prefix="base/"),
    Package("openttd-opensfx", "/usr/share/games/openttd/baseset/opensfx/opensfx.cat", "cat", "CC-BY-SA-3.0"),
    Package("lugaru-data", "/usr/share/games/lugaru", "files", "CC-BY-SA-3.0", copyright_prefix="Data/"),
    Package("widelands-data", "/usr/share/games/widelands/data", "files", "GPL-2+", copyright_prefix="data/"),
    Package("lincity-ng-data", "/usr/share/games/lincity-ng", "files", "GPL-2+", copyright_prefix="data/"),
    Package("fluid-soundfont-gm", "/usr/share/sounds/sf2/FluidR3_GM.sf2", "midi", "MIT", apt=("fluidsynth",)),
    Package("timgm6mb-soundfont", "/usr/share/sounds/sf2/TimGM6mb.sf2", "midi", "GPL-2", apt=("fluidsynth",)),
    Package("espeak-ng", "/usr/bin/espeak-ng", "tts", "GPL-3+"),
    Package("flite", "/usr/bin/flite", "tts", "BSD-style (CMU Flite)"),
)

BY_NAME: dict[str, Package] = {p.name: p for p in CATALOG}


def select(names: list[str] | None) -> list[Package]:
    """Catalogue entries by name (all when `names` is empty), refusing unknown names."""
    if not names:
        return list(CATALOG)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise CorpusError(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return [BY_NAME[n] for n in names]


def apt_install(packages: list[Package], run=subprocess.run) -> None:
    """`apt-get update` once, then install what the packages need (root only)."""
    if os.geteuid() != 0:
        raise CorpusError("--install runs apt-get and needs root; install the packages yourself instead")
    names = sorted({n for p in packages for n in p.apt_packages()})
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", "--no-install-recommends", *names]):
        if run(cmd, env=env).returncode != 0:
            raise CorpusError(f"{' '.join(cmd[:2])} failed; see its output above")
