"""The prompt writer: seeded image captions for the image generators and speakable scripts for TTS.

Image captions are compositional and built from :data:`SCENE_VOCAB` only, so an image renderer
can recover every part with :func:`parse_image_prompt` (no phrase of one category occurs inside
a phrase of another). Speech scripts are short template sentences (5-20 words) in English,
Dutch or Czech (the languages of the real speech available offline, see DATA.md).
"""

from __future__ import annotations

import random
import re

# category -> phrases. Other engineers import this (image renderers map phrases to drawing code).
SCENE_VOCAB: dict[str, tuple[str, ...]] = {
    "subject": (
        "mountain lake",
        "lighthouse",
        "red barn",
        "sailboat",
        "pine forest",
        "city skyline",
        "sand dune",
        "waterfall",
        "stone bridge",
        "country road",
        "castle",
        "windmill",
        "hot air balloon",
        "sunflower field",
        "wooden cabin",
        "fishing harbor",
        "winding river",
        "flower meadow",
        "volcano",
        "palm island",
        "cat",
        "dog",
        "horse",
        "bicycle",
        "vintage car",
        "teapot",
        "bowl of fruit",
        "old tree",
        "train station",
        "garden path",
    ),
    "place": (
        "by the sea",
        "in the mountains",
        "in a valley",
        "on a hill",
        "in the desert",
        "in a small village",
        "in a city park",
        "near a lake",
        "on a beach",
        "in the countryside",
        "on a cliff",
        "in a snowy landscape",
    ),
    "time": (
        "at sunrise",
        "at sunset",
        "at noon",
        "at night",
        "at dusk",
        "in the afternoon",
        "in the morning",
    ),
    "weather": (
        "clear sky",
        "heavy rain",
        "light fog",
        "falling snow",
        "storm clouds",
        "overcast sky",
        "rainbow",
        "scattered clouds",
    ),
    "style": (
        "photograph",
        "oil painting",
        "watercolor painting",
        "pencil sketch",
        "3d render",
        "pixel art",
        "cinematic still",
        "flat illustration",
    ),
    "palette": (
        "warm tones",
        "cool tones",
        "muted colors",
        "vivid colors",
        "pastel colors",
        "black and white",
    ),
}

# Speech scripts: templates with {slots}; slot fillers are already in the right grammatical form.
_SPEECH: dict[str, dict[str, object]] = {
    "en": {
        "templates": (
            "{name} will meet us {when} at the {place}.",
            "Please remember to bring the {thing} to the {place} {when}.",
            "I think the {thing} is still on the table in the kitchen.",
            "{when_cap} we are going to the {place} with {name}.",
            "The weather {when} should be {weather}, so take your {thing}.",
            "Could you tell {name} that the meeting has moved to {time}?",
            "My train leaves at {time}, and I still have to buy a new {thing}.",
            "We waited almost {number} minutes for the bus near the {place}.",
            "{name} said the {place} closes at {time} on weekdays.",
            "There are {number} people waiting outside the {place} right now.",
            "If it is {weather} {when}, we will stay at home and read.",
            "Thank you for calling, {name} will ring you back {when}.",
            "The {thing} you ordered should arrive {when}, before {time}.",
            "I have never seen so many birds near the {place} before.",
            "Turn left after the {place} and walk for about {number} minutes.",
        ),
        "name": ("Anna", "David", "Maria", "Peter", "Sarah", "Tom", "Lucy", "James", "Emma", "Daniel"),
        "when": (
            "tomorrow",
            "tonight",
            "this afternoon",
            "next week",
            "on Monday",
            "on Friday",
            "later today",
        ),
        "place": (
            "station",
            "library",
            "market",
            "museum",
            "bakery",
            "post office",
            "hospital",
            "park",
            "school",
        ),
        "thing": ("umbrella", "letter", "map", "ticket", "camera", "book", "blue bag", "key", "coat"),
        "weather": ("sunny", "cold and windy", "warm", "rainy", "foggy", "quite cloudy"),
        "time": (
            "half past nine",
            "ten o'clock",
            "noon",
            "four thirty",
            "seven in the evening",
            "eight fifteen",
        ),
        "number": ("five", "ten", "fifteen", "twenty", "thirty", "forty"),
    },
    "nl": {
        "templates": (
            "{name} komt {when} naar {place}.",
            "Vergeet niet {thing} mee te nemen naar {place}.",
            "Het weer is {when} {weather}, dus blijf maar thuis.",
            "We hebben bijna {number} minuten gewacht bij {place}.",
            "{name} zegt dat {place} om {time} dichtgaat.",
            "Mijn trein vertrekt om {time}, en ik moet nog {thing} kopen.",
            "Kun je {name} vragen of {thing} nog in de keuken ligt?",
            "Er staan {number} mensen te wachten voor {place}.",
        ),
        "name": ("Anna", "Pieter", "Sanne", "Jan", "Eva", "Thomas", "Lotte", "Daan"),
        "when": ("morgen", "vanavond", "volgende week", "maandag", "vrijdag", "vanmiddag"),
        "place": (
            "het station",
            "de bibliotheek",
            "de markt",
            "het museum",
            "de bakker",
            "het park",
            "de school",
        ),
        "thing": ("een paraplu", "de brief", "een kaart", "het kaartje", "een boek", "de sleutel", "een jas"),
        "weather": ("zonnig", "koud", "warm", "regenachtig", "mistig", "bewolkt"),
        "time": ("half tien", "tien uur", "twaalf uur", "vier uur", "zeven uur"),
        "number": ("vijf", "tien", "vijftien", "twintig", "dertig"),
    },
    "cs": {
        "templates": (
            "{name} přijde {when} na {place}.",
            "Nezapomeň vzít {thing} s sebou.",
            "Počasí bude {when} {weather}, tak zůstaneme doma.",
            "Čekali jsme skoro {number} minut na autobus.",
            "{name} říká, že obchod zavírá v {time}.",
            "Můj vlak jede v {time} a ještě musím koupit {thing}.",
            "Můžeš se zeptat, jestli {name} už přijel domů?",
            "Před muzeem čeká {number} lidí.",
        ),
        "name": ("Petr", "Jana", "Tomáš", "Eva", "Martin", "Lucie", "Pavel", "Anna"),
        "when": ("zítra", "večer", "příští týden", "v pondělí", "v pátek", "odpoledne"),
        "place": ("nádraží", "poštu", "trh", "náměstí", "koncert", "oběd"),
        "thing": ("deštník", "dopis", "mapu", "lístek", "knihu", "klíč", "kabát"),
        "weather": ("slunečné", "chladné", "teplé", "deštivé", "mlhavé", "zatažené"),
        "time": ("devět", "deset", "šest", "osm", "sedm"),
        "number": ("pět", "deset", "patnáct", "dvacet", "třicet"),
    },
}
SPEECH_LANGUAGES = tuple(_SPEECH)


def image_prompts(n: int, *, seed: int) -> list[str]:
    """``n`` compositional image captions, the same for the same seed.

    Format: ``"<style> of a <subject> <place> <time>, <weather>, <palette>"``, e.g.
    ``"oil painting of a lighthouse on a cliff at sunset, light fog, warm tones"``; every part
    comes from :data:`SCENE_VOCAB` (see :func:`parse_image_prompt`).

    Args:
        n: Number of captions.
        seed: Seed; captions depend only on it (not on global random state).

    Returns:
        The captions.
    """
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pick = {cat: rng.choice(words) for cat, words in SCENE_VOCAB.items()}
        subject = pick["subject"]
        article = "an" if subject[0] in "aeiou" else "a"
        out.append(
            f"{pick['style']} of {article} {subject} {pick['place']} {pick['time']}, {pick['weather']}, {pick['palette']}"
        )
    return out


def parse_image_prompt(prompt: str) -> dict[str, str | None]:
    """Recover the :data:`SCENE_VOCAB` phrase of each category in a caption (None if absent).

    Works on any caption (not only ours): the longest phrase of each category found as whole
    words wins.

    Args:
        prompt: A caption.

    Returns:
        ``{category: phrase | None}``.
    """
    text = " " + re.sub(r"[^a-z0-9]+", " ", prompt.lower()) + " "
    found: dict[str, str | None] = {}
    for cat, phrases in SCENE_VOCAB.items():
        hits = [p for p in phrases if f" {re.sub(r'[^a-z0-9]+', ' ', p)} " in text]
        found[cat] = max(hits, key=len) if hits else None
    return found


def speech_scripts(n: int, *, seed: int, language: str = "en") -> list[str]:
    """``n`` speakable sentences of 5-20 words for TTS, the same for the same seed.

    Args:
        n: Number of sentences.
        seed: Seed; sentences depend only on it.
        language: ``"en"``, ``"nl"`` or ``"cs"``.

    Returns:
        The sentences.

    Raises:
        ValueError: Unknown language.
    """
    try:
        spec = _SPEECH[language]
    except KeyError:
        raise ValueError(
            f"no speech scripts for language {language!r} (have: {', '.join(_SPEECH)})"
        ) from None
    rng = random.Random(f"{seed}:{language}")
    templates: tuple[str, ...] = spec["templates"]  # type: ignore[assignment]
    out = []
    for _ in range(n):
        template = rng.choice(templates)
        slots = {
            name: rng.choice(values)  # type: ignore[arg-type]
            for name, values in spec.items()
            if name != "templates"
        }
        when = str(slots.get("when", ""))
        slots["when_cap"] = when[:1].upper() + when[1:]
        out.append(template.format(**slots))
    return out
