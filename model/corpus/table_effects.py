"""Label table, everything but speech: effects, animals, ambience, drums, music.

Written by reading the installed file names (and, for OpenSFX, the description each
clip carries). Only names that say what sounds are labelled: game-specific noises
(portals, lasers, "Commune2.wav") stay unlabelled rather than guessed. Where one
recording was cut into several files (a drum at five velocities, OpenSFX clips edited
from the same original), the rule names a group so they land in one split.
"""

import re

from clapsep.model.corpus.rules import SKIP, R, Rule


def _by_name(names: dict[str, tuple[str, str]]) -> tuple[Rule, ...]:
    """One rule per bare file stem, anywhere in the tree (`<stem>.ogg`)."""
    return tuple(
        R(rf"(^|/){re.escape(stem)}\.ogg$", label, what) for stem, (label, what) in names.items()
    )


_TUXPAINT_SFX = _by_name(
    {
        "vacuum_cleaner": ("household_appliance", "vacuum cleaner"),
        "Washing-machine": ("household_appliance", "washing machine"),
        "toilet": ("toilet_flush", ""),
        "hammer": ("hammering", ""),
        "mallet_metal": ("hammering", "a metal mallet striking"),
        "saw": ("sawing", ""),
        "scissors_small_open": ("scissors", ""),
        "scissors_small_closed": ("scissors", ""),
        "camera_35mm": ("camera_shutter", ""),
        "cello": ("cello", ""),
        "violin": ("violin", ""),
        "bassoon": ("bassoon", ""),
        "cymbal_crash": ("cymbal", "crash cymbal"),
        "drum_tomtom_floor": ("tom_drum", "floor tom"),
        "drumkit": ("drum_kit", "rock"),
        "fireworks": ("fireworks", ""),
        "lightningbolt": ("thunder", ""),
        "firetruck": ("siren", "fire truck siren"),
        "blackcat": ("cat", "black cat"),
        "dog": ("dog", ""),
        "fox": ("wild_animal", "fox"),
        "bee": ("insect_buzz", "bee"),
        "hornet": ("insect_buzz", "hornet"),
        "mosquito": ("insect_buzz", "mosquito"),
        "grasshopper": ("crickets", "grasshopper"),
        "frog": ("frog", ""),
        "cow": ("cow", "cow"),
        "cow_white": ("cow", "cow"),
        "bull": ("cow", "bull"),
        "bison": ("wild_animal", "bison"),
        "sheep": ("sheep", "sheep"),
        "ram": ("sheep", "ram"),
        "sheep_lamb": ("sheep", "lamb"),
        "goat": ("goat", "goat"),
        "mountaingoat": ("goat", "mountain goat"),
        "horse": ("horse", "horse"),
        "zebra": ("wild_animal", "zebra"),
        "donkey": ("donkey", ""),
        "pig": ("pig", "pig"),
        "pig_golden": ("pig", "pig"),
        "pig_golden2": ("pig", "pig"),
        "lion": ("roar", "lion"),
        "tiger": ("roar", "tiger"),
        "chimp": ("monkey", "chimpanzee"),
        "gorilla": ("monkey", "gorilla"),
        "elephant": ("elephant", ""),
        "bear": ("wild_animal", "bear"),
        "camel": ("wild_animal", "camel"),
        "dromedary": ("wild_animal", "camel"),
        "caribou": ("wild_animal", "caribou"),
        "deer": ("wild_animal", "deer"),
        "doe": ("wild_animal", "deer"),
        "hippopotamus": ("wild_animal", "hippopotamus"),
        "sea_lion": ("wild_animal", "sea lion"),
        "whale": ("wild_animal", "whale"),
        "orca": ("wild_animal", "killer whale"),
        "dolphin": ("wild_animal", "dolphin"),
        "koala": ("wild_animal", "koala"),
        "wombat": ("wild_animal", "wombat"),
        "squirrel": ("wild_animal", "squirrel"),
        "mouse": ("wild_animal", "mouse"),
        "beaver": ("wild_animal", "beaver"),
        "rooster": ("chicken", "rooster"),
        "hen": ("chicken", "hen"),
        "duck": ("duck", ""),
        "drake": ("duck", ""),
        "gander": ("goose", ""),
        "turkey": ("bird", "turkey"),
        "crow": ("bird", "crow"),
        "owl": ("bird", "owl"),
        "cuckoo": ("bird", "cuckoo"),
        "blackbird": ("bird", "blackbird"),
        "lark": ("bird", "lark"),
        "seagull": ("bird", "seagull"),
        "penguin": ("bird", "penguin"),
        "vulture": ("bird", "vulture"),
        "heron_greatblue_flying": ("bird", "heron"),
        "quetzal": ("bird", "quetzal"),
        "tucan": ("bird", "toucan"),
        "nandou": ("bird", "rhea"),
    }
)

_HEDGEWARS_SFX = (
    R(r"^Music/", "music"),
    R(r"^Sounds/Droplet\d\.ogg$", "water_drip"),
    R(r"^Sounds/Whistle\.ogg$", "whistle", "whistle"),
    R(r"^Sounds/bee\.ogg$", "insect_buzz", "bee"),
    R(r"^Sounds/beep\.ogg$", "beep"),
    R(r"^Sounds/explosion\.ogg$", "explosion"),
    R(r"^Sounds/gun\.ogg$", "gunshot"),
    R(r"^Sounds/minigun\.ogg$", "gunshot", "machine gun fire"),
    R(r"^Sounds/shotgunfire\.ogg$", "gunshot", "a shotgun blast"),
    R(r"^Sounds/plane\.ogg$", "aircraft", "propeller plane"),
    R(r"^Sounds/shutterclick\.ogg$", "camera_shutter"),
    R(r"^Sounds/splash\.ogg$", "water_splash"),
    R(r"^Sounds/steam\.ogg$", "steam"),
    R(r"^Sounds/steps\.ogg$", "footsteps"),
)

_SONIC_PI = (
    R(r"^ambi_choir\.", "choir"),
    R(r"^ambi_piano\.", "piano"),
    R(r"^(ambi_dark_woosh|ambi_swoosh|perc_swoosh)\.", "whoosh"),
    R(r"^bass_voxy", SKIP),
    R(r"^bass_", "bass"),
    R(r"^(bd_\w+|drum_bass_\w+|drum_heavy_kick|elec_soft_kick|elec_hollow_kick)\.", "kick_drum"),
    R(r"^drum_cowbell\.", "cowbell"),
    R(r"^drum_cymbal_(?P<kind>closed|pedal)\.", "hi_hat", "{kind} hi-hat"),
    R(r"^(drum_cymbal_(open|hard|soft)|drum_splash_\w+|elec_cymbal)\.", "cymbal"),
    R(r"^drum_roll\.", "snare_drum", "snare drum roll"),
    R(r"^(drum_snare_\w+|sn_\w+|elec_(lo_|hi_|mid_|filt_)?snare)\.", "snare_drum"),
    R(r"^(drum_tom_\w+|elec_fuzz_tom)\.", "tom_drum"),
    R(r"^elec_triangle\.", "percussion", "triangle"),
    R(r"^elec_(beep|blip2?|ping|plip)\.", "beep"),
    R(r"^guit_", "guitar"),
    R(r"^loop_(amen|amen_full|breakbeat)\.", "drum_kit", "breakbeat"),
    R(r"^loop_tabla\.", "tabla", "rhythm"),
    R(r"^loop_3d_printer\.", "machinery", "a 3d printer"),
    R(r"^misc_crow\.", "bird", "crow"),
    R(r"^perc_bell2?\.", "bell"),
    R(r"^perc_door\.", "door"),
    R(r"^perc_till\.", "cash_register"),
    R(r"^tabla_", "tabla", "stroke"),
)

_HYDROGEN = (
    # One group per drum piece: Kick-Soft ... Kick-Hardest are one drum.
    R(r"^(?P<p>GMRockKit/(24)?Ride)-", "cymbal", "ride cymbal", group="{p}"),
    R(r"^(?P<p>GMRockKit/Bell)-", "cymbal", "ride cymbal bell", group="{p}"),
    R(r"^(?P<p>GMRockKit/Crash)-", "cymbal", "crash cymbal", group="{p}"),
    R(r"^(?P<p>GMRockKit/Splash)-", "cymbal", "splash cymbal", group="{p}"),
    R(r"^(?P<p>GMRockKit/Cowbell)-", "cowbell", group="{p}"),
    R(r"^(?P<p>GMRockKit/HandClap)\.", "hand_clap", group="{p}"),
    R(
        r"^(?P<p>GMRockKit/Hat(?P<kind>Closed|SemiOpen|Open|Pedal))-",
        "hi_hat",
        "{kind} hi-hat",
        group="{p}",
    ),
    R(r"^(?P<p>GMRockKit/Kick)-", "kick_drum", group="{p}"),
    R(r"^(?P<p>GMRockKit/SideStick)-", "snare_drum", "snare side stick", group="{p}"),
    R(r"^(?P<p>GMRockKit/SnareRimshot)-", "snare_drum", "snare rimshot", group="{p}"),
    R(r"^(?P<p>GMRockKit/Snare)-", "snare_drum", group="{p}"),
    R(r"^(?P<p>GMRockKit/Tom(1|2|Floor))-", "tom_drum", group="{p}"),
    R(r"^(?P<p>TR808EmulationKit/808_Clap)\.", "hand_clap", group="{p}"),
    R(r"^(?P<p>TR808EmulationKit/808_Clave)\.", "percussion", "claves", group="{p}"),
    R(r"^(?P<p>TR808EmulationKit/808_Conga)\.", "percussion", "conga drum", group="{p}"),
    R(r"^(?P<p>TR808EmulationKit/808_Cowbell)\.", "cowbell", group="{p}"),
    R(r"^(?P<p>TR808EmulationKit/808_Cymbal)\.", "cymbal", "drum machine cymbal", group="{p}"),
    R(
        r"^(?P<p>TR808EmulationKit/808_Hat)_(?P<kind>Closed|Open|Pedal)\.",
        "hi_hat",
        "{kind} hi-hat",
        group="{p}",
    ),
    R(r"^(?P<p>TR808EmulationKit/808_Kick)_", "kick_drum", "808 kick drum", group="{p}"),
    R(r"^(?P<p>TR808EmulationKit/808_Shaker)\.", "percussion", "shaker", group="{p}"),
    R(r"^(?P<p>TR808EmulationKit/808_Snare)_", "snare_drum", "808 snare", group="{p}"),
    R(r"^(?P<p>TR808EmulationKit/808_Tom)_", "tom_drum", "808 tom", group="{p}"),
)

_UFOAI = (
    R(
        r"^sound/footsteps/(?P<s>carpet|dirt|grass|gravel|linoleum|metal|sand|snow|stone|tile|wood)\d*\.ogg$",
        "footsteps",
        "on {s}",
    ),
    R(r"^sound/footsteps/splash\d\.ogg$", "footsteps", "through shallow water"),
    R(r"^sound/footsteps/water_(in|out|under)\.ogg$", "water_splash", "wading through water"),
    R(r"^sound/doors/door\d-open\.ogg$", "door", "opening"),
    R(r"^sound/doors/door\d-close\.ogg$", "door", "closing"),
    R(r"^sound/doors/(open_close|creak_low_short)\.ogg$", "door", "creaking"),
    R(r"^sound/misc/breakglass\d+\.ogg$", "glass_breaking"),
    R(r"^sound/misc/breakwood\d+\.ogg$", "wood_breaking"),
    R(r"^sound/misc/breakmetal\d+\.ogg$", "metal_clang", "metal crashing down"),
    R(r"^sound/misc/breakelectric\d+\.ogg$", "sparks", "an electrical short circuit"),
    R(r"^sound/ambience/(fire\d*|firesoft|smallfire)\.ogg$", "fire"),
    R(r"^sound/ambience/waterfontain\.ogg$", "water", "a fountain splashing"),
    R(r"^sound/ambience/water\d*\.ogg$", "water"),
    R(r"^sound/ambience/arcticwind\.ogg$", "wind", "an icy wind howling"),
    R(r"^sound/ambience/thunder\d\.ogg$", "thunder"),
    R(r"^sound/ambience/cricket_loop\.ogg$", "crickets", "cricket"),
    R(r"^sound/ambience/alienbase-bubbles\.ogg$", "bubbling", "bubbles rising in water"),
    R(r"^sound/ambience/steam\.ogg$", "steam"),
    R(r"^sound/ambience/sparks(_short)?\.ogg$", "sparks"),
    R(r"^sound/ambience/lights_loop\.ogg$", "electric_hum", "fluorescent lights buzzing"),
    R(r"^sound/ambience/hum2?\.ogg$", "electric_hum"),
    R(r"^sound/ambience/(machine1|minepump03)\.ogg$", "machinery", "a pump running"),
    R(r"^sound/ambience/wind_turbine\.ogg$", "machinery", "a wind turbine turning"),
    R(r"^sound/ambience/tv_static\.ogg$", "static_noise", "tv static"),
    R(r"^sound/ambience/droning_(long|short)\.ogg$", "room_tone", "a low droning hum indoors"),
    R(
        r"^sound/ambience/(city_abnd_ufoai_atm|sand-city)\.ogg$",
        "city_ambience",
        "an abandoned city",
    ),
    R(r"^sound/(civilians|soldiers)/\w*(death|scream)\w*\.ogg$", "scream"),
    R(r"^sound/(civilians|soldiers)/\w*hurt\w*\.ogg$", "grunt"),
    R(r"^sound/weapons/bullet-(pistol2?|rifle|rifle-\w+|smg|smg-\w+|sniper)\.ogg$", "gunshot"),
    R(
        r"^sound/weapons/bullet-(shotgun|shotgun-\w+|shotgunmini)\.ogg$",
        "gunshot",
        "a shotgun blast",
    ),
    R(r"^sound/weapons/bullet-(chaingun|hmg)-\w+\.ogg$", "gunshot", "machine gun fire"),
    R(r"^sound/weapons/explosion(-grenade|-rocket|-fire)?\.ogg$", "explosion"),
    R(r"^sound/weapons/explosion-flashbang\.ogg$", "explosion", "a flashbang going off"),
    R(r"^sound/geoscape/combat-explosion\.ogg$", "explosion"),
    R(r"^sound/geoscape/basealert\.ogg$", "alarm", "a base alarm sounding"),
    R(r"^sound/weapons/melee-swoosh\.ogg$", "whoosh"),
    R(r"^sound/impact/water-impact\.ogg$", "water_splash"),
    R(r"^sound/ugv/diesel-(idle|move|stop)\.ogg$", "vehicle_engine", "diesel engine"),
    R(r"^sound/seq/humanflyby\.ogg$", "aircraft", "jet flying past"),
)

_OPENSFX = (
    # Relative path: "<index> <title>"; the title is the clip's own description.
    R(r"^\d+ Factory Whistle$", "horn", "factory steam whistle"),
    R(r"^\d+ Steam (train station departure|engine going in tunnel)$", "train", "steam train"),
    R(r"^\d+ Diesel/electric train station departure$", "train", "diesel train"),
    R(r"^\d+ (Maglev|Monorail) train station departure$", "train", "electric train"),
    R(r"^\d+ (Ship|Ferry) horn$", "horn", "ship horn"),
    R(r"^\d+ Modern car horn$", "horn", "car horn"),
    R(r"^\d+ (Toyland: )?Propeller plane (start|take off)$", "aircraft", "propeller plane"),
    R(r"^\d+ (Early|Mach 1\+|Modern) jet take off$", "aircraft", "jet taking off"),
    R(r"^\d+ Helicopter$", "helicopter"),
    R(r"^\d+ Truck/old bus start, pull away$", "vehicle_engine", "truck starting"),
    R(r"^\d+ (Modern|Old) bus start$", "vehicle_engine", "bus pulling away"),
    R(r"^\d+ Mining machinery$", "machinery", "mining machinery"),
    R(r"^\d+ Electric sparking$", "sparks"),
    R(r"^\d+ Steam \(of steam engine\)$", "steam", "a steam engine hissing"),
    R(r"^\d+ Level crossing$", "alarm", "level crossing bells"),
    R(r"^\d+ (Big )?[Cc]rash$", "crash"),
    R(r"^\d+ Explosion$", "explosion"),
    R(r"^\d+ Cash till$", "cash_register"),
    R(r"^\d+ Beep$", "beep"),
    R(r"^\d+ Morse$", "beep", "morse code"),
    R(r"^\d+ Applause$", "applause"),
    R(r"^\d+ Oooh sound$", "crowd", "a crowd going ooh"),
    R(r"^\d+ Jackhammer$", "jackhammer"),
    R(r"^\d+ Sheep$", "sheep", "sheep"),
    R(r"^\d+ Cow$", "cow", "cow"),
    R(r"^\d+ Horse$", "horse", "horse"),
    R(r"^\d+ Building bridge$", "hammering", "a blacksmith hammering"),
    R(r"^\d+ Sawmill$", "sawing", "a circular saw"),
    R(r"^\d+ Toyland: Bubble generated$", "bubbling"),
    R(r"^\d+ (Heavy )?[Ww]ind$", "wind"),
    R(r"^\d+ Lumber mill: (Crashing|Falling) tree$", "tree_falling"),
    R(r"^\d+ Lumber mill: Chainsaw$", "chainsaw"),
    R(r"^\d+ Tropical: Bird \(\d\)$", "bird", "tropical bird"),
    R(r"^\d+ Tropical: Lion roar$", "roar", "lion"),
    R(r"^\d+ Tropical: Monkeys$", "monkey", "monkey"),
)

_LUGARU = (
    R(r"^Sounds/Music", "music"),
    R(r"^Sounds/Alarm\.ogg$", "alarm"),
    R(r"^Sounds/Bark\d?\.ogg$", "dog"),
    R(r"^Sounds/BarkGrowl\.ogg$", "dog", "growling and barking"),
    R(r"^Sounds/(Growl|Snarl)\d?\.ogg$", "growl", "wolf snarling"),
    R(r"^Sounds/Hawk\.ogg$", "bird", "hawk"),
    R(r"^Sounds/BushRustle\.ogg$", "rustling", "a bush rustling"),
    R(r"^Sounds/(Clank\d|MetalHit)\.ogg$", "metal_clang"),
    R(r"^Sounds/DesertAmbient\.ogg$", "wind", "desert wind"),
    R(r"^Sounds/Fire(Start|End)?\.ogg$", "fire"),
    R(r"^Sounds/FootStep(?P<s>Grass|Snow|Stone)\d\.ogg$", "footsteps", "on {s}"),
    R(r"^Sounds/(HeavyImpact|Thud|Land\d?)\.ogg$", "thud"),
    R(r"^Sounds/(High|Low|Mid|Move)?Whoosh\.ogg$", "whoosh"),
    R(r"^Sounds/Wind\.ogg$", "wind"),
)

_WIDELANDS = (
    R(r"^music/", "music"),
    R(r"^sound/animals/bird\d_\d+\.ogg$", "bird", "songbird"),
    R(r"^sound/animals/crickets\d_\d+\.ogg$", "crickets", "cricket"),
    R(r"^sound/animals/(?P<a>wolf|coyote)_\d+\.ogg$", "howling", "{a}"),
    R(r"^sound/animals/boar\.ogg$", "pig", "wild boar"),
    R(r"^sound/animals/stag_\d+\.ogg$", "wild_animal", "red deer stag"),
    R(r"^sound/animals/moose_\d+\.ogg$", "wild_animal", "moose"),
    R(r"^sound/animals/frog\.ogg$", "frog"),
    R(r"^sound/farm/sheep_\d+\.ogg$", "sheep", "sheep"),
    R(r"^sound/farm/ox_\d+\.ogg$", "cow", "ox"),
    R(r"^sound/farm/horse_\d+\.ogg$", "horse", "horse"),
    R(r"^sound/farm/donkey\.ogg$", "donkey"),
    R(r"^world/critters/duck/", "duck"),
    R(r"^sound/hammering/", "hammering"),
    R(r"^sound/smiths/(tool)?smith_\d+\.ogg$", "hammering", "a blacksmith hammering on an anvil"),
    R(r"^sound/mill/mill_turning_\d+\.ogg$", "machinery", "a mill turning"),
    R(r"^sound/woodcutting/(fast_)?woodcutting(_\d+)?\.ogg$", "chopping_wood"),
    R(r"^sound/woodcutting/tree_falling_\d+\.ogg$", "tree_falling"),
    R(r"^sound/metal/(gold|iron)ping\.ogg$", "metal_clang", "a metal ping"),
    R(r"^sound/metal/furnace\.ogg$", "fire", "a roaring furnace"),
    R(r"^sound/sawmill/", "sawing", "a sawmill"),
    R(r"^sound/atlanteans/saw/", "sawing"),
    R(r"^sound/empire/(beer|wine)bubble_\d+\.ogg$", "bubbling", "a brew bubbling"),
)

_LINCITY = (
    R(r"^music/", "music"),
    R(r"^sounds/Fire(\d|Wasteland\d)\.wav$", "fire"),
    R(r"^sounds/Water\d\.wav$", "water"),
    R(r"^sounds/TraficHigh\d\.wav$", "traffic", "heavy traffic"),
    R(r"^sounds/TraficLow\d\.wav$", "traffic", "light traffic"),
    R(r"^sounds/RailTrain\d\.wav$", "train"),
    R(r"^sounds/Harbor\d\.wav$", "city_ambience", "a harbour"),
    R(r"^sounds/Residential\w*\.wav$", "city_ambience", "a residential street"),
    R(r"^sounds/SportsCroud\d\.wav$", "crowd", "a sports crowd cheering"),
    R(r"^sounds/Market(Full|Med|Low)\d\.wav$", "crowd", "a busy market"),
    R(r"^sounds/School\d\.wav$", "crowd", "children in a schoolyard"),
    R(r"^sounds/Blacksmith\d\.wav$", "hammering", "a blacksmith hammering"),
    R(r"^sounds/(CoalMine|OreMine|IndustryHigh|IndustryLight|PowerCoal\w+)\d?\.wav$", "machinery"),
    R(r"^sounds/RocketExplosion\d\.wav$", "explosion"),
    R(r"^sounds/(PowerLine|Substation)\d\.wav$", "electric_hum"),
    R(r"^sounds/Mill\d\.wav$", "machinery", "a mill turning"),
    R(r"^sounds/ParklandLake\d\.wav$", "water", "water lapping at a lake shore"),
)

_WARZONE_SFX = (
    # Warzone 2100 effects whose names say what they are; lasers, tracks and the like stay
    # unlabelled.
    R(r"^audio/sfx/explons/(lrgexpl|smlexpl|atnkexpl|mpodexpl)\.ogg$", "explosion"),
    R(r"^audio/sfx/explons/bldfall\.ogg$", "crash", "a building collapsing"),
    R(r"^audio/sfx/weapons/(mgbar\d|mgheavy|mgtower|asltmg)\.ogg$", "gunshot", "machine gun fire"),
    R(r"^audio/sfx/weapons/splash\.ogg$", "water_splash"),
    R(r"^audio/sfx/building/steam\.ogg$", "steam"),
    R(r"^audio/sfx/building/powerhum\.ogg$", "electric_hum", "a power generator humming"),
    R(r"^audio/sfx/building/oilpump\.ogg$", "machinery", "an oil pump working"),
    R(r"^audio/sfx/misc/scream\d?\.ogg$", "scream"),
)

_MEGAGLEST_SFX = (
    # Tileset ambience beds (up to a few minutes each) and a few animal one-shots; faction music.
    R(r"^tilesets/[^/]+/sounds/rain\.(ogg|wav)$", "rain"),
    R(r"^tilesets/[^/]+/sounds/wind\.ogg$", "wind"),
    R(
        r"^tilesets/[^/]+/sounds/(day|sunny_day|desertday)\.ogg$",
        "nature_ambience",
        "birds in the countryside by day",
    ),
    R(
        r"^tilesets/[^/]+/sounds/(night|nightime)\.ogg$",
        "nature_ambience",
        "the countryside at night",
    ),
    R(r"^tilesets/[^/]+/sounds/wolf\.wav$", "howling", "wolf"),
    R(r"^tilesets/[^/]+/sounds/(?P<b>hawk|owl)\.ogg$", "bird", "{b}"),
    R(r"^tilesets/[^/]+/sounds/rooster\.ogg$", "chicken", "rooster"),
    R(r"^tilesets/[^/]+/sounds/chicken\.wav$", "chicken", "hen"),
    R(r"^tilesets/[^/]+/sounds/mudchute_cow_\d\.ogg$", "cow", "cow"),
    R(r"^techs/megapack/factions/[^/]+/music/[^/]+\.ogg$", "music"),
)

_FILLETS_SFX = (
    R(r"^music/[^/]+\.ogg$", "music"),
    R(r"^sound/bathyscaph/en/bat-t-budik\.ogg$", "alarm", "an alarm clock ringing"),
    R(r"^sound/engine/en/mot-x-motor\.ogg$", "machinery", "a motor running"),
)

_OPENARENA_SFX = (
    # OpenArena map ambience (sound/world): loops of wind, hum, drones, fans, fire and water.
    R(r"\.pk3/sound/world/(wind\d|demonwind01)\.wav$", "wind"),
    R(r"\.pk3/sound/world/neonhum\.wav$", "electric_hum", "a neon light humming"),
    R(r"\.pk3/sound/world/fan4?\.wav$", "machinery", "a ventilation fan"),
    R(r"\.pk3/sound/world/(machinerydrone0\d|tim_machine)\.wav$", "machinery"),
    R(r"\.pk3/sound/world/tim_pump\.wav$", "machinery", "a pump running"),
    R(r"\.pk3/sound/world/(tim_drone1|drone6)\.wav$", "room_tone", "a low mechanical drone"),
    R(r"\.pk3/sound/world/waterfall\.wav$", "water", "a waterfall"),
    R(r"\.pk3/sound/world/drops\.wav$", "water_drip"),
    R(r"\.pk3/sound/world/(fire\d|firesoft)\.wav$", "fire"),
)

# Music beds: one group per track (the file itself).
_COLOBOT = (R(r"^music/[^/]+\.ogg$", "music"),)
_FREEDROID = (R(r"^music/[^/]+\.ogg$", "music"),)
_FLARE = (
    R(r"^[^/]+/music/wind_ambient\.ogg$", "wind"),
    R(r"^[^/]+/music/[^/]+\.ogg$", "music"),
)
_WARMUX = (
    R(r"^music/(ingame|menu)/[^/]+\.ogg$", "music"),
)  # .opus elsewhere: pedalboard cannot read them
_WESNOTH_MUSIC = (
    R(r"^silence\.ogg$", SKIP),
    R(r"^[^/]+\.ogg$", "music"),
)

_REDECLIPSE = (
    # Red Eclipse (held out): music and map ambience; morph/* is Q009's designed pack, only its
    # weather used.
    R(r"^music/track_\d+\.ogg$", "music"),
    R(r"^ambience/distant_cars\.ogg$", "traffic", "distant cars on a road"),
    R(r"^ambience/(wind|blowwind|hollowwind|wastewind|alienwind|dizzywind)\.ogg$", "wind"),
    R(r"^ambience/morph/(wind\d|stormwind)\.ogg$", "wind", "a storm wind"),
    R(r"^ambience/morph/(rain|stormrain)\.ogg$", "rain"),
    R(r"^ambience/morph/stormbolts\.ogg$", "thunder"),
    R(r"^ambience/hum\.ogg$", "electric_hum"),
    R(r"^ambience/(machine\d|pneumatic)\.ogg$", "machinery"),
    R(r"^ambience/vapour\.ogg$", "steam"),
    R(r"^ambience/(river|creek|water)\.ogg$", "water"),
    R(r"^ambience/waterfall\w*\.ogg$", "water", "a waterfall"),
    R(r"^ambience/cavedrip\.ogg$", "water_drip"),
    R(r"^ambience/forest\d\.ogg$", "nature_ambience", "a forest"),
    R(r"^ambience/cycadas\.ogg$", "insect_buzz", "cicada"),
    R(r"^ambience/nightcrickets\.ogg$", "crickets", "cricket"),
    R(r"^ambience/fire\.ogg$", "fire"),
    R(r"^ambience/lava\d\.ogg$", "bubbling", "molten lava bubbling"),
)

EFFECT_RULES: dict[str, tuple[Rule, ...]] = {
    "tuxpaint-stamps-default": _TUXPAINT_SFX,
    "hedgewars-data": _HEDGEWARS_SFX,
    "sonic-pi-samples": _SONIC_PI,
    "hydrogen-data": _HYDROGEN,
    "ufoai-sound": _UFOAI,
    "openttd-opensfx": _OPENSFX,
    "lugaru-data": _LUGARU,
    "widelands-data": _WIDELANDS,
    "lincity-ng-data": _LINCITY,
    "warzone2100-data": _WARZONE_SFX,
    "megaglest-data": _MEGAGLEST_SFX,
    "fillets-ng-data": _FILLETS_SFX,
    "openarena-data": _OPENARENA_SFX,
    "colobot-common-sounds": _COLOBOT,
    "freedroidrpg-data": _FREEDROID,
    "flare-game": _FLARE,
    "warmux-data": _WARMUX,
    "wesnoth-1.16-music": _WESNOTH_MUSIC,
    "redeclipse-data": _REDECLIPSE,
}
