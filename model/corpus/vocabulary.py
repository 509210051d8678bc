"""Every label the corpus can carry, its category, and the captions that describe it.

The separator is trained from text queries, so a label is only as useful as its
captions: each has several phrasings, some with a `{what}` detail from the label
table ("on snow", "a camel") or the `{language}` of a voice. A template that needs a
field the clip does not have is never chosen, and every label keeps at least one
template without fields, so a caption always exists.
"""

import random
import string
from dataclasses import dataclass


@dataclass(frozen=True)
class Label:
    name: str
    category: str
    captions: tuple[str, ...]


_VOCABULARY: dict[str, dict[str, tuple[str, ...]]] = {
    "speech": {
        "speech_male": (
            "a man speaking {language}",
            "a male voice talking in {language}",
            "a man talking",
            "male speech",
            "a man saying a few words",
        ),
        "speech_female": (
            "a woman speaking {language}",
            "a female voice talking in {language}",
            "a woman talking",
            "female speech",
            "a woman saying a few words",
        ),
        "speech_child": (
            "a child speaking {language}",
            "a young child talking in {language}",
            "a child talking",
            "a kid's voice",
        ),
        "speech": (
            "someone speaking {language}",
            "a voice talking in {language}",
            "a person talking",
            "speech",
            "someone saying a few words",
        ),
        "speech_cartoon": (
            "a high-pitched cartoon voice shouting",
            "a sped-up cartoon character talking",
            "a squeaky animated voice",
            "a cartoon character yelling a phrase",
        ),
        "speech_synthetic": (
            "a synthesized voice speaking {language}",
            "a robotic computer voice",
            "text-to-speech voice talking",
            "a robot voice speaking",
        ),
    },
    "vocal": {
        "laughter": ("someone laughing", "laughter", "a person laughs"),
        "scream": ("someone screaming", "a scream", "a person cries out in pain"),
        "grunt": ("a person grunting", "a pained groan", "someone grunts with effort"),
        "cough": ("someone coughing", "a cough", "a person coughs"),
    },
    "music": {
        "music": (
            "background music",
            "a piece of music playing",
            "instrumental music",
            "a song playing",
        ),
    },
    "instrument": {
        "piano": ("a piano playing", "piano music", "someone playing the piano"),
        "electric_piano": (
            "an electric piano playing",
            "a Rhodes-style electric piano",
            "electric piano chords",
        ),
        "harpsichord": ("a harpsichord playing", "baroque harpsichord music"),
        "organ": ("an organ playing", "organ music", "a church organ", "a Hammond organ"),
        "accordion": ("an accordion playing", "accordion music"),
        "harmonica": ("a harmonica playing", "a mouth organ"),
        "guitar": (
            "a guitar playing",
            "guitar music",
            "someone playing the guitar",
            "an acoustic guitar",
        ),
        "distorted_guitar": (
            "a distorted electric guitar",
            "an overdriven rock guitar",
            "electric guitar riff",
        ),
        "bass": ("a bass line", "a bass guitar playing", "deep bass notes"),
        "violin": ("a violin playing", "violin music", "a fiddle"),
        "cello": ("a cello playing", "cello music", "a bowed cello"),
        "strings": ("a string section playing", "orchestral strings", "string ensemble"),
        "harp": ("a harp playing", "harp music", "plucked harp strings"),
        "timpani": ("timpani drums", "orchestral kettle drums"),
        "trumpet": ("a trumpet playing", "trumpet music"),
        "trombone": ("a trombone playing", "trombone music"),
        "tuba": ("a tuba playing", "low brass tuba"),
        "french_horn": ("a french horn playing", "horn section"),
        "brass_section": ("a brass section playing", "brass instruments", "a horn ensemble"),
        "saxophone": ("a saxophone playing", "saxophone music", "a sax solo"),
        "clarinet": ("a clarinet playing", "clarinet music"),
        "oboe": ("an oboe playing", "a double reed woodwind"),
        "bassoon": ("a bassoon playing", "low woodwind bassoon"),
        "flute": ("a flute playing", "flute music", "a piccolo"),
        "pan_flute": ("a pan flute playing", "pan pipes"),
        "choir": ("a choir singing", "choral voices", "a choir singing aah"),
        "mallet_percussion": (
            "a {what} playing",
            "a xylophone or marimba",
            "mallet percussion",
            "a glockenspiel",
        ),
        "bells": ("bells ringing", "tubular bells", "a bell chiming"),
        "synth_lead": ("a synthesizer lead", "a synth melody", "an electronic lead synth"),
        "synth_pad": ("a synth pad", "an ambient synthesizer pad", "a warm electronic pad"),
        "sitar": ("a sitar playing", "Indian sitar music"),
        "banjo": ("a banjo playing", "banjo picking"),
    },
    "drums": {
        "drum_kit": ("a drum kit playing", "drums", "a drum beat", "a {what} drum groove"),
        "kick_drum": ("a kick drum", "a bass drum hit", "a {what}"),
        "snare_drum": ("a snare drum", "a snare hit", "a {what}"),
        "hi_hat": ("a hi-hat", "a {what}", "hi-hat cymbal"),
        "cymbal": ("a cymbal crash", "a {what}", "a cymbal"),
        "tom_drum": ("a tom drum", "a tom-tom hit", "a {what}"),
        "hand_clap": ("a hand clap", "clapping hands", "a drum machine clap"),
        "cowbell": ("a cowbell", "a cowbell hit"),
        "tabla": ("tabla drums", "an Indian tabla", "a tabla {what}"),
        "percussion": ("a {what}", "hand percussion", "a percussion hit"),
    },
    "animal": {
        "dog": ("a dog barking", "a dog barks", "a dog {what}", "barking"),
        "cat": ("a cat meowing", "a cat meows", "a {what}"),
        "cow": ("a cow mooing", "a {what} lowing", "cattle"),
        "sheep": ("sheep bleating", "a {what} baaing", "a sheep"),
        "goat": ("a goat bleating", "a {what}", "goats"),
        "horse": ("a horse neighing", "a {what} whinnying", "a horse"),
        "donkey": ("a donkey braying", "a donkey hee-haw"),
        "pig": ("a pig oinking", "a {what} grunting", "pigs grunting"),
        "chicken": ("a {what} clucking", "chickens", "a rooster crowing"),
        "duck": ("a duck quacking", "ducks quacking", "a {what}"),
        "goose": ("a goose honking", "geese honking"),
        "bird": ("a {what} calling", "birds chirping", "a bird singing", "birdsong"),
        "howling": ("a {what} howling", "an animal howling", "wolves howling"),
        "growl": ("an animal growling", "a {what}", "a menacing growl"),
        "roar": ("a {what} roaring", "a big cat roaring", "a roar"),
        "monkey": ("monkeys screeching", "a {what} calling", "apes hooting"),
        "elephant": ("an elephant trumpeting", "an elephant"),
        "frog": ("frogs croaking", "a frog croaks"),
        "insect_buzz": ("a {what} buzzing", "insects buzzing", "a buzzing insect"),
        "crickets": ("crickets chirping", "a {what} chirping", "insects chirping at night"),
        "wild_animal": (
            "the sound of a {what}",
            "a {what} calling",
            "an animal call",
            "a wild animal making noise",
        ),
    },
    "nature": {
        "wind": ("wind blowing", "a gust of wind", "{what}", "howling wind"),
        "fire": ("a fire crackling", "{what}", "flames burning", "a crackling fire"),
        "water": ("running water", "{what}", "water flowing", "a stream of water"),
        "water_splash": ("a splash of water", "something splashing in water", "{what}"),
        "water_drip": ("water dripping", "drops of water", "a droplet falling"),
        "bubbling": ("liquid bubbling", "bubbles", "{what}"),
        "thunder": ("thunder rumbling", "a thunderclap", "a thunderstorm"),
        "rain": (
            "rain falling",
            "a rain shower",
            "{what}",
            "rain pattering on the ground",
            "steady rainfall",
        ),
        "rustling": ("leaves rustling", "rustling in a bush", "{what}"),
        "tree_falling": ("a tree falling", "a tree crashing down", "{what}"),
    },
    "domestic": {
        "footsteps": (
            "footsteps {what}",
            "someone walking {what}",
            "footsteps",
            "the sound of someone walking",
        ),
        "door": ("a door {what}", "a door opening or closing", "a door", "a creaking door"),
        "glass_breaking": ("glass breaking", "a window shattering", "glass smashing"),
        "wood_breaking": (
            "wood breaking",
            "wood cracking and splintering",
            "a wooden crate smashing",
        ),
        "metal_clang": ("metal clanging", "a metallic clank", "{what}", "metal hitting metal"),
        "thud": ("a heavy thud", "something heavy falling", "a dull impact", "{what}"),
        "whoosh": ("a whoosh", "a swoosh", "something swinging through the air"),
        "hammering": ("hammering", "{what}", "someone hammering", "a hammer striking"),
        "sawing": ("sawing", "{what}", "a saw cutting wood"),
        "chopping_wood": ("chopping wood", "an axe hitting wood", "{what}"),
        "household_appliance": ("a {what}", "a household appliance running", "a {what} running"),
        "toilet_flush": ("a toilet flushing", "a flushing toilet"),
        "camera_shutter": ("a camera shutter clicking", "a camera taking a photo"),
        "cash_register": ("a cash register", "a till ringing", "a cash register opening"),
        "scissors": ("scissors cutting", "snipping scissors"),
    },
    "vehicle": {
        "vehicle_engine": (
            "a {what}",
            "an engine running",
            "a vehicle engine starting",
            "a motor revving",
        ),
        "traffic": ("road traffic", "cars driving by", "{what}", "busy street traffic"),
        "train": ("a train", "a {what}", "a train passing", "a locomotive"),
        "aircraft": ("an airplane", "a {what}", "a plane flying overhead", "a jet engine roaring"),
        "helicopter": ("a helicopter", "helicopter rotor blades"),
        "horn": ("a horn honking", "a {what}", "a loud horn blast"),
        "siren": ("a siren wailing", "an emergency siren", "a {what}"),
    },
    "machine": {
        "machinery": ("machinery running", "{what}", "industrial machines", "a mechanical hum"),
        "electric_hum": ("an electrical hum", "a buzzing transformer", "{what}"),
        "sparks": ("electric sparks crackling", "electricity arcing", "{what}"),
        "steam": ("steam hissing", "a hiss of steam", "{what}"),
        "chainsaw": ("a chainsaw", "a chainsaw cutting wood"),
        "jackhammer": ("a jackhammer", "a pneumatic drill"),
        "static_noise": ("static noise", "radio static", "{what}"),
    },
    "impact": {
        "explosion": ("an explosion", "a loud blast", "{what}", "a bomb exploding"),
        "gunshot": ("a gunshot", "gunfire", "{what}", "shots fired"),
        "crash": ("a crash", "a loud crash", "{what}", "a collision"),
        "fireworks": ("fireworks", "fireworks exploding", "firecrackers"),
    },
    "alarm": {
        "alarm": ("an alarm", "{what}", "an alarm going off", "a warning signal"),
        "beep": ("a beep", "electronic beeping", "{what}"),
        "bell": ("a bell ringing", "{what}", "a small bell"),
        "whistle": ("a whistle", "a {what}", "someone blowing a whistle"),
    },
    "crowd": {
        "applause": ("applause", "an audience clapping", "people applauding"),
        "crowd": ("a crowd", "{what}", "crowd noise", "people talking in a crowd"),
    },
    "ambience": {
        "city_ambience": (
            "city ambience",
            "{what}",
            "urban background noise",
            "a town in the background",
        ),
        "nature_ambience": (
            "outdoor nature ambience",
            "{what}",
            "birds and insects in the countryside",
            "the sound of the outdoors",
            "a quiet landscape with distant birds",
        ),
        "room_tone": (
            "room tone",
            "{what}",
            "the low hum of an indoor space",
            "a steady background drone",
            "the ambient noise of an empty room",
        ),
    },
}

LABELS: dict[str, Label] = {
    name: Label(name, category, captions)
    for category, entries in _VOCABULARY.items()
    for name, captions in entries.items()
}

LANGUAGES: dict[str, str] = {
    "be": "Belarusian",
    "bg": "Bulgarian",
    "ca": "Catalan",
    "cs": "Czech",
    "da": "Danish",
    "de": "German",
    "el": "Greek",
    "en": "English",
    "es": "Spanish",
    "fi": "Finnish",
    "fr": "French",
    "ga": "Irish",
    "gl": "Galician",
    "it": "Italian",
    "lt": "Lithuanian",
    "ml": "Malayalam",
    "nds": "Low German",
    "nl": "Dutch",
    "pl": "Polish",
    "pt": "Portuguese",
    "pt_BR": "Brazilian Portuguese",
    "ro": "Romanian",
    "ru": "Russian",
    "sl": "Slovenian",
    "sr": "Serbian",
    "sv": "Swedish",
    "uk": "Ukrainian",
    "wa": "Walloon",
    "zh": "Mandarin Chinese",
}


def template_fields(template: str) -> set[str]:
    """The `{field}` names a caption template needs."""
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def caption(label: str, rng: random.Random, what: str = "", language: str = "") -> str:
    """One caption for a clip, chosen by `rng` among the templates its fields can fill."""
    fields = {"what": what, "language": LANGUAGES.get(language, "")}
    usable = [t for t in LABELS[label].captions if all(fields.get(f) for f in template_fields(t))]
    return rng.choice(usable).format(**fields)
