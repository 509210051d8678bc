"""A little synthetic speech (espeak-ng, flite), used sparingly.

Recorded speech in the allowed packages is short words and game lines; synthetic
sentences add longer, continuous speech in a few languages. Its robotic timbre is
easy to learn as a shortcut, so there is little of it (`SENTENCES_PER_VOICE` per
voice), it carries its own label (`speech_synthetic`), and each voice is one split
group so validation voices are unheard ones.
"""

import contextlib
import random
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from clapsep.model.corpus.packages import Package
from clapsep.model.corpus.rules import Entry
from clapsep.model.corpus.sources import SourceItem

SENTENCES_PER_VOICE = 6

SENTENCES: dict[str, tuple[str, ...]] = {
    "en": (
        "The train to the city leaves from platform four in ten minutes.",
        "Please remember to close the window before you go to bed.",
        "We walked along the river until the sun went down behind the hills.",
        "Could you tell me where the nearest post office is?",
        "The meeting has been moved to Thursday afternoon at three o'clock.",
        "My grandmother keeps a small garden full of tomatoes and herbs.",
        "Turn left at the second traffic light and park behind the library.",
        "It is going to rain tomorrow, so take an umbrella with you.",
        "The children laughed as the puppy chased its own tail.",
        "Thank you for calling, all of our operators are busy right now.",
    ),
    "de": (
        "Der Zug nach Berlin fährt in zehn Minuten ab.",
        "Bitte schließen Sie das Fenster, bevor Sie gehen.",
        "Wir sind am Fluss entlang bis zum Abend spazieren gegangen.",
        "Können Sie mir sagen, wo die nächste Apotheke ist?",
        "Morgen wird es regnen, also nimm einen Schirm mit.",
        "Meine Großmutter hat einen kleinen Garten hinter dem Haus.",
    ),
    "fr": (
        "Le train pour Paris part dans dix minutes.",
        "N'oublie pas de fermer la fenêtre avant de partir.",
        "Nous avons marché le long de la rivière jusqu'au soir.",
        "Pouvez-vous me dire où se trouve la gare, s'il vous plaît?",
        "Il va pleuvoir demain, prends un parapluie.",
        "Ma grand-mère cultive des tomates dans son petit jardin.",
    ),
    "es": (
        "El tren a Madrid sale dentro de diez minutos.",
        "Por favor, cierra la ventana antes de salir.",
        "Caminamos junto al río hasta que se puso el sol.",
        "¿Me puede decir dónde está la farmacia más cercana?",
        "Mañana va a llover, así que lleva un paraguas.",
        "Mi abuela tiene un pequeño huerto detrás de la casa.",
    ),
    "it": (
        "Il treno per Roma parte tra dieci minuti.",
        "Per favore, chiudi la finestra prima di uscire.",
        "Abbiamo camminato lungo il fiume fino al tramonto.",
        "Mi sa dire dove si trova la stazione?",
        "Domani pioverà, quindi prendi un ombrello.",
        "Mia nonna coltiva i pomodori nel suo piccolo orto.",
    ),
}

# (voice argument, language); espeak-ng variants m*/f* change pitch and formants.
_ESPEAK_VOICES = (
    ("en+m1", "en"),
    ("en+f2", "en"),
    ("en-us+m3", "en"),
    ("en-us+f4", "en"),
    ("en+m7", "en"),
    ("de+m2", "de"),
    ("de+f3", "de"),
    ("fr+m4", "fr"),
    ("fr+f1", "fr"),
    ("es+m3", "es"),
    ("es+f5", "es"),
    ("it+m1", "it"),
    ("it+f2", "it"),
)
_FLITE_VOICES = (("slt", "en"), ("awb", "en"), ("rms", "en"), ("kal", "en"))


def items(package: Package, seed: int) -> Iterator[SourceItem]:
    """`SENTENCES_PER_VOICE` sentences per voice of this synthesizer."""
    voices = _ESPEAK_VOICES if package.name == "espeak-ng" else _FLITE_VOICES
    for voice, language in voices:
        rng = random.Random(f"{seed}:{package.name}:{voice}")
        sentences = rng.sample(
            SENTENCES[language], min(SENTENCES_PER_VOICE, len(SENTENCES[language]))
        )
        for index, text in enumerate(sentences):
            relpath = f"{voice}/{language}-{index:02d}.txt"
            yield SourceItem(
                package.name,
                relpath,
                f"{package.root}:{relpath}",
                lambda voice=voice, text=text: _speak(package.name, voice, text),
                entry=Entry("speech_synthetic", f"{package.name}:voice-{voice}", language=language),
                generated=True,
            )


def synth_command(program: str, voice: str, text: str, out: Path) -> list[str]:
    if program == "espeak-ng":
        return ["espeak-ng", "-v", voice, "-w", str(out), text]
    return ["flite", "-voice", voice, "-t", text, "-o", str(out)]


@contextlib.contextmanager
def _speak(program: str, voice: str, text: str) -> Iterator[BinaryIO]:
    with tempfile.TemporaryDirectory(prefix="clapsep-tts-") as tmp:
        out = Path(tmp) / "speech.wav"
        result = subprocess.run(
            synth_command(program, voice, text, out), capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0 or not out.exists():
            raise RuntimeError(
                f"{program} failed ({result.returncode}): {result.stderr.strip()[:200]}"
            )
        with open(out, "rb") as stream:
            yield stream
