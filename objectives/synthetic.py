"""The embedded default corpus: synthetic English NER (PER, ORG, LOC, MISC) made with Faker.

A fresh install must be able to run a study without any data file, and the study must be
worth tuning: a tagger that only memorises tokens should fail on dev, one that reads context
and capitalisation should do well. So the generator is built around three choices:

* Unseen names. Every name part is put on one side of a fixed split by a checksum of its
  text (``_is_held_out``): train draws only from the "seen" side (en_US Faker data), dev and
  test draw about half their mentions from the held-out side (held-out en_US parts and other
  Faker locales). Held-out tokens can never occur in a train entity.
* Ambiguity. A surname is a person and part of a company ("Morgan & Sons") or a river; some
  words are places and first names ("Jordan", "Paris"); cities sit inside clubs and
  universities; some sentences are lowercased or upper-cased headlines, and capitalised
  non-entities (days, months, titles, sentence starts) are everywhere.
* Context. Templates of several shapes (reports, quotes, results, lists, headlines, some
  with no entity, some with four) give each type telling neighbours.

Determinism: Faker instances are seeded per locale, other choices use ``random.Random``
seeded by a string (hashed with SHA-512, so stable across processes), and no set of strings
is ever iterated (its order changes with PYTHONHASHSEED).
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from faker import Faker

from objectives.conll import Corpus, Sentence

HELD_OUT_PERCENT = 40  # share of name parts kept out of train
_HOME_LOCALE = "en_US"
# Not it_IT: its city() varies with PYTHONHASHSEED even when seeded (Faker 40).
_FOREIGN_LOCALES = "en_GB en_IE en_AU en_IN de_DE fr_FR pt_PT es_ES nl_NL sv_SE".split()
_MIN_TOKENS, _MAX_TOKENS = 8, 25
_SPLIT_MIX = {  # (share from the recurring entities, share from the held-out side)
    "train": (0.3, 0.0),
    "dev": (0.25, 0.5),
    "test": (0.25, 0.5),
}
# Words that shape a name without identifying it; the held-out split ignores them.
_STRUCTURE = frozenset(
    "New North South East West Lake Port Saint Sainte St. Mount Bad Sint Upon Inc. Inc Ltd "
    "LLC PLC Group Holdings Corp. Brothers Sons GmbH Co. KG AG AB HB NV BV SA S.A. S.L. "
    "S.A.R.L. S.Coop. Hnos Bank University United City Airlines River Valley Open Marathon "
    "Grand Prix Cup Award Prize Festival Film Pro Max Mini Plus Air One Systems Technologies "
    "Ville".split()
)
# Both first names and places: only context tells them apart.
_PLACE_NAMES = (
    "Jordan Paris Austin Florence Georgia Victoria Sydney Chelsea Madison Charlotte Dallas "
    "Houston Lincoln Washington Chester Preston Kent Devon Israel Savannah".split()
)
_NATIONALITIES = (
    "German French British American Japanese Chinese Russian Italian Spanish Dutch Swedish "
    "Polish Brazilian Mexican Canadian Australian Indian Irish Turkish Greek Egyptian Kenyan "
    "Nigerian Argentine Belgian Swiss Austrian Danish Norwegian Finnish Czech Hungarian "
    "Portuguese Korean Thai Iraqi Iranian Israeli Palestinian Serbian Croatian".split()
) + ["South African", "Sri Lankan", "New Zealand", "Saudi Arabian", "Latin American"]
_EVENT_NAMES = ("World Cup", "Olympic Games", "Champions League", "Tour de France", "Davis Cup")
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_MONTHS = (
    "January February March April May June July August September October November December"
).split()
_ROLES = "spokesman spokeswoman analyst official coach minister director lawyer".split()
_LETTERS = "ABCDEFGHIKLMNOPRSTUVW"
_SYLLABLES = "ka zo ri ven tor lux mi da quo bel sar fen or ix ta nu vo rel cam dor".split()


def _is_held_out(part: str) -> bool:
    return zlib.crc32(part.lower().encode()) % 100 < HELD_OUT_PERCENT


def _key_parts(text: str) -> list[str]:
    return [w for w in text.replace(",", " ").split() if w[:1].isupper() and w not in _STRUCTURE]


def _side(text: str) -> str | None:
    """The side a name belongs to; None for one mixing both sides, which is never used."""
    flags = [_is_held_out(part) for part in _key_parts(text)]
    if all(flags) and flags:
        return "held_out"
    return None if any(flags) else "seen"


def _unique(items: Sequence[str], side: str) -> tuple[str, ...]:
    kept = (x for x in items if _side(x) == side and x not in _PLACE_NAMES)
    return tuple(dict.fromkeys(kept))  # dict, not set: keeps a process-independent order


@dataclass(frozen=True)
class _Names:
    """The name parts one side of the split can use."""

    first: tuple[str, ...]
    last: tuple[str, ...]
    cities: tuple[str, ...]
    regions: tuple[str, ...]
    companies: tuple[str, ...]
    languages: tuple[str, ...]
    brands: tuple[str, ...]
    acronyms: tuple[str, ...]


def _draw(fakers: Sequence[Faker], method: str, n_each: int) -> list[str]:
    return [getattr(f, method)() for f in fakers for _ in range(n_each)]


def _load_names(seed: int) -> dict[str, _Names]:
    """Draw name parts from seeded Faker instances and split them into the two sides."""
    home = Faker(_HOME_LOCALE)
    home.seed_instance(seed)
    foreign = [Faker(locale) for locale in _FOREIGN_LOCALES]
    for offset, fake in enumerate(foreign, start=1):
        fake.seed_instance(seed * 1000 + offset)
    rng = random.Random(f"tiaocan-synthetic-words:{seed}")
    brands = [
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).title()
        for _ in range(400)
    ]
    acronyms = ["".join(rng.choice(_LETTERS) for _ in range(rng.randint(2, 4))) for _ in range(300)]
    raw = {
        "first": (_draw([home], "first_name", 500), _draw(foreign, "first_name", 60)),
        "last": (_draw([home], "last_name", 600), _draw(foreign, "last_name", 60)),
        "cities": (_draw([home], "city", 200), _draw(foreign, "city", 30)),
        "regions": (
            _draw([home], "country", 300) + _draw([home], "administrative_unit", 80),
            _draw(foreign, "administrative_unit", 20),
        ),
        "companies": ([], _draw(foreign, "company", 8)),
        "languages": (_draw([home], "language_name", 300), []),
        "brands": (brands, []),
        "acronyms": (acronyms, []),
    }
    names = {}
    for side in ("seen", "held_out"):
        pools = {}
        for key, (home_items, foreign_items) in raw.items():
            items = home_items + (foreign_items if side == "held_out" else [])
            pools[key] = _unique(items, side)
        names[side] = _Names(**pools)
    return names


class _EntityMaker:
    """Entity strings of each kind, composed from one side's name parts."""

    def __init__(self, names: _Names, rng: random.Random) -> None:
        self.names, self.rng = names, rng

    def pick(self, items: Sequence[str]) -> str:
        return items[self.rng.randrange(len(items))]

    def surname(self) -> str:
        return self.pick(self.names.last)

    def person(self) -> str:
        r, first, last = self.rng.random(), self.pick(self.names.first), self.surname()
        if r < 0.55:
            return f"{first} {last}"
        if r < 0.65:
            return f"{first} {self.pick('ABCDEFGHJKLMNPRSTW')}. {last}"
        if r < 0.72:
            return f"{first} {last}-{self.surname()}"
        if r < 0.82:
            return f"{self.pick(_PLACE_NAMES)} {last}"
        return last if r < 0.95 else first

    def company_of(self, last: str) -> str:
        shape = self.pick(("{} & Sons", "{} Brothers", "{} Group", "{} Holdings", "{} Inc."))
        return shape.format(last)

    def org(self) -> str:
        r = self.rng.random()
        if r < 0.3:
            return self.company_of(self.surname())
        if r < 0.45:
            return self.pick(("{}-{}", "{} and {}", "{} , {} and {}")).format(
                self.surname(), self.surname(), self.surname()
            )
        if r < 0.6:
            shape = ("{} United", "{} City", "University of {}", "Bank of {}", "{} Airlines")
            return self.pick(shape).format(self.pick(self.names.cities))
        if r < 0.72 and self.names.companies:
            return self.pick(self.names.companies)
        if r < 0.85:
            return f"{self.pick(self.names.brands)} {self.pick(('Systems', 'Technologies'))}"
        return self.pick(self.names.acronyms)

    def loc(self) -> str:
        r = self.rng.random()
        if r < 0.4:
            return self.pick(self.names.cities)
        if r < 0.75:
            return self.pick(self.names.regions)
        if r < 0.87:
            return self.pick(("{} River", "Lake {}", "Mount {}", "{} Valley")).format(
                self.surname()
            )
        return self.pick(_PLACE_NAMES)

    def nationality(self) -> str:
        return self.pick(_NATIONALITIES)

    def event(self) -> str:
        r = self.rng.random()
        if r < 0.2:
            return self.pick(_EVENT_NAMES)
        if r < 0.75:
            shape = ("{} Open", "{} Marathon", "{} Grand Prix", "{} Film Festival")
            return self.pick(shape).format(self.pick(self.names.cities + self.names.regions))
        return self.pick(("{} Cup", "{} Prize", "{} Award")).format(self.surname())

    def language(self) -> str:
        return self.pick(self.names.languages)

    def product(self) -> str:
        model = self.pick(("Pro", "Max", "Mini", "Plus", "Air", "One", "X2", "S5", "3"))
        return f"{self.pick(self.names.brands)} {model}"

    def misc(self) -> str:
        kinds = (self.nationality, self.event, self.language, self.product)
        return kinds[self.rng.randrange(len(kinds))]()


# A slot is (entity type, maker method); "AGENT" is filled as "PER" or "ORG" at random.
_SLOTS: dict[str, tuple[str, str]] = {
    "PER": ("PER", "person"),
    "SURNAME": ("PER", "surname"),
    "ORG": ("ORG", "org"),
    "LOC": ("LOC", "loc"),
    "MISC": ("MISC", "misc"),
    "NAT": ("MISC", "nationality"),
    "EVENT": ("MISC", "event"),
    "LANG": ("MISC", "language"),
    "PRODUCT": ("MISC", "product"),
}
_FILLERS: dict[str, Callable[[random.Random], str]] = {
    "DAY": lambda rng: rng.choice(_DAYS),
    "MONTH": lambda rng: rng.choice(_MONTHS),
    "ROLE": lambda rng: rng.choice(_ROLES),
    "NUM": lambda rng: str(rng.randint(2, 90)),
    "YEAR": lambda rng: str(rng.randint(1970, 2024)),
    "PCT": lambda rng: f"{rng.randint(0, 12)}.{rng.randint(0, 9)}",
    "SCORE": lambda rng: f"{rng.randint(0, 6)}-{rng.randint(0, 6)}",
    "DATE": lambda rng: (
        f"{rng.randint(1990, 2024)}-{rng.randint(1, 12):02}-{rng.randint(1, 28):02}"
    ),
}

# "^" marks a headline, printed in capitals. Sentence starts are capitalised, as in news.
_TEMPLATES = (
    "{AGENT} said on {DAY} that {ORG} would open a new office in {LOC} .",
    "{ORG} shares rose {PCT} percent in {LOC} after the company reported higher profits .",
    '" We are very pleased with the result , " {PER} told reporters in {LOC} .',
    "{PER} , a {ROLE} for {ORG} , declined to comment on the report .",
    "The {NAT} government said it would send more troops to {LOC} .",
    "{ORG} beat {ORG} {SCORE} in the {EVENT} on {DAY} .",
    "President {PER} arrived in {LOC} on {DAY} for talks with {PER} .",
    "{PER} scored twice as {ORG} won {SCORE} at home to {ORG} .",
    "Police in {LOC} arrested {NUM} people , including {PER} , on {DAY} .",
    "The {EVENT} will be held in {LOC} in {MONTH} {YEAR} .",
    "{PER} joined {ORG} in {YEAR} after ten years at {ORG} .",
    "According to {AGENT} , prices in {LOC} rose {PCT} percent last month .",
    "{PER} ( {LOC} ) beat {PER} ( {LOC} ) {SCORE} {SCORE} .",
    "Mr. {SURNAME} said the {NAT} market was still weak .",
    "{ORG} said it had agreed to buy {ORG} for {NUM} million dollars .",
    "Thousands of {NAT} fans travelled to {LOC} for the final on {DAY} .",
    "{PER} , who was born in {LOC} , now lives in {LOC} with his family .",
    "The {NAT} ambassador to {LOC} , {PER} , was summoned on {DAY} .",
    "Flights between {LOC} and {LOC} were cancelled because of the storm .",
    "{PER} will face {PER} in the second round of the {EVENT} .",
    "A {ROLE} for {ORG} in {LOC} said the plant would close in {MONTH} .",
    "{ORG} , based in {LOC} , employs about {NUM} people .",
    "In a statement , {ORG} said {PER} would step down as chief executive .",
    "Guests included {PER} , {PER} and {PER} of {ORG} .",
    "The new {PRODUCT} costs less than the old model , {ORG} said .",
    "{SURNAME} , {NUM} , has played for {ORG} since {YEAR} .",
    "He studied at {ORG} before moving to {LOC} in {YEAR} .",
    "{LOC} and {LOC} signed a trade agreement on {DAY} .",
    "{ORG} will sponsor the {EVENT} for another three years .",
    "Most people in {LOC} speak {LANG} , but {LANG} is also common .",
    "{SURNAME} said he expected {ORG} to raise its offer .",
    "The {NAT} striker {PER} was sent off after {NUM} minutes .",
    "{PER} won the {EVENT} in {YEAR} and again in {YEAR} .",
    "Sales of the {PRODUCT} have been strong in {LOC} , {ORG} said on {DAY} .",
    "{ORG} and {ORG} are in talks about a possible merger , sources said .",
    "{PER} was appointed ambassador to {LOC} last {MONTH} .",
    "Rebels attacked a village near {LOC} , killing {NUM} people , {AGENT} reported .",
    "The {NAT} foreign minister , {PER} , met {PER} in {LOC} .",
    '" It is a great honour , " said {PER} , who joined {ORG} in {MONTH} .',
    "{SURNAME} 's company , {ORG} , is one of the largest employers in {LOC} .",
    "Tickets for the {EVENT} went on sale in {LOC} on {DAY} .",
    "she moved from {LOC} to {LOC} to work for {ORG} .",
    "but {PER} said the deal with {ORG} was not yet final .",
    "{PER} and {PER} have been married since {YEAR} .",
    "Residents of {LOC} were told to stay indoors , {AGENT} said .",
    "{PER} translated the book from {LANG} into {LANG} in {YEAR} .",
    "The {MISC} was launched in {LOC} on {DAY} .",
    "{S_PER} , who founded {S_ORG} in {YEAR} , died on {DAY} aged {NUM} .",
    "{S_ORG} was named after its founder , {S_FULL} , who was born in {LOC} .",
    "{S_FULL} went fishing on the {S_LOC} last {MONTH} .",
    "{P_PER} flew to {P_LOC} on {DAY} to meet {PER} .",
    "{P_LOC} is where {P_FIRST} grew up , her brother said .",
    "{LOC} {DATE} - {ORG} said on {DAY} it would cut {NUM} jobs in {LOC} .",
    "^SOCCER - {ORG} BEAT {ORG} {SCORE} IN {EVENT} .",
    "^{ORG} SAYS {NAT} DEMAND STILL WEAK IN {LOC} .",
    "^TENNIS - {PER} BEATS {PER} TO REACH {EVENT} FINAL .",
    "^GOLF - {SURNAME} LEADS BY TWO SHOTS AT {EVENT} .",
    "{PER} has been named coach of the national team .",
    "The talks in {LOC} ended without an agreement on {DAY} .",
    "{ORG} reported a net loss of {NUM} million dollars for the quarter .",
    "Heavy rain caused flooding across much of {LOC} on {DAY} .",
    "{AGENT} said the decision would be announced next week .",
    "The {NAT} team arrived late on {DAY} and trained in the evening .",
    "Prices for the {PRODUCT} will start at {NUM} dollars , the company said .",
    "He is expected to leave {ORG} before the end of the year .",
    "Do you think {PER} can win the title again this year ?",
    "Who will replace {SURNAME} as captain of the team next season ?",
    "Why did {ORG} cancel the contract so late in the year ?",
    "{AGENT} did not return calls seeking comment on {DAY} .",
    "The final of the {EVENT} was watched by {NUM} million people .",
    "Unemployment in {LOC} fell to {PCT} percent in {MONTH} , the government said .",
    "{PER} , {NUM} , died at home on {DAY} after a long illness .",
    "and then {PER} walked off the stage without saying a word .",
    "i never thought {AGENT} would do that to the workers .",
    "The company said profits rose {PCT} percent in the third quarter .",
    "Shares fell sharply on {DAY} after the announcement of job cuts .",
    "Officials said the talks would resume next week after a short break .",
    "It was not immediately clear who was responsible for the attack .",
    "The two sides agreed to meet again in {MONTH} to discuss the plan .",
    "Police said {NUM} people were injured when the bus overturned on {DAY} .",
    "The match was postponed because of heavy rain , the {ROLE} said .",
    "Prices were little changed in early trading on {DAY} , dealers said .",
)
_PREFIXES = (
    "On {DAY} ,",
    "Meanwhile ,",
    "In {MONTH} ,",
    "Earlier this year ,",
    "In {LOC} ,",
    "According to {AGENT} ,",
)
_SUFFIXES = (", officials said .", ", {AGENT} said in a statement .", ", according to {AGENT} .")
_KEEP_CASE = frozenset(('"', "Mr.", "President"))  # stay capitalised after "On Monday ,"


def _compile(template: str) -> tuple[str, ...]:
    return tuple(template.lstrip("^").split())


_COMPILED = tuple(_compile(t) for t in _TEMPLATES)
_HEADLINES = tuple(t.startswith("^") for t in _TEMPLATES)


class _SentenceMaker:
    """Fill templates for one split, drawing each mention from the right side."""

    def __init__(self, seed: int, split: str, names: dict[str, _Names]) -> None:
        self.rng = random.Random(f"tiaocan-synthetic:{seed}:{split}")
        self.seen = _EntityMaker(names["seen"], self.rng)
        self.held_out = _EntityMaker(names["held_out"], self.rng)
        self.recurring = _recurring(seed, names["seen"])
        self.p_recurring, self.p_held_out = _SPLIT_MIX[split]

    def maker(self) -> _EntityMaker:
        return self.held_out if self.rng.random() < self.p_held_out else self.seen

    def mention(self, method: str) -> str:
        if method in self.recurring and self.rng.random() < self.p_recurring:
            return self.rng.choice(self.recurring[method])
        return str(getattr(self.maker(), method)())

    def linked(self) -> dict[str, tuple[str, str]]:
        """Slots sharing one surname or one place-name, to make identity ambiguous."""
        maker = self.maker()
        last, place = maker.surname(), maker.pick(_PLACE_NAMES)
        return {
            "S_PER": ("PER", last),
            "S_FULL": ("PER", f"{maker.pick(maker.names.first)} {last}"),
            "S_ORG": ("ORG", maker.company_of(last)),
            "S_LOC": ("LOC", f"{last} River"),
            "P_PER": ("PER", f"{place} {maker.surname()}"),
            "P_FIRST": ("PER", place),
            "P_LOC": ("LOC", place),
        }

    def fill(self, pattern: Sequence[str]) -> tuple[list[str], list[str]]:
        tokens: list[str] = []
        tags: list[str] = []
        linked = self.linked() if any(p.startswith(("{S_", "{P_")) for p in pattern) else {}
        for piece in pattern:
            name = piece[1:-1] if piece.startswith("{") and piece.endswith("}") else ""
            if name in _FILLERS:
                tokens.append(_FILLERS[name](self.rng))
                tags.append("O")
            elif name in _SLOTS or name in linked or name == "AGENT":
                entity_type, text = linked.get(name) or self._slot(name)
                words = _tokenise(text)
                tokens += words
                tags += ["B-" + entity_type] + ["I-" + entity_type] * (len(words) - 1)
            else:
                tokens.append(piece)
                tags.append("O")
        return tokens, tags

    def _slot(self, name: str) -> tuple[str, str]:
        if name == "AGENT":  # "X said": a person or an organisation, the name must tell
            name = self.rng.choice(("PER", "ORG"))
        entity_type, method = _SLOTS[name]
        return entity_type, self.mention(method)

    def sentence(self) -> Sentence:
        for _ in range(20):
            index = self.rng.randrange(len(_COMPILED))
            tokens, tags = self.fill(_COMPILED[index])
            if not _HEADLINES[index]:
                tokens, tags = self._decorate(tokens, tags)
            if _MIN_TOKENS <= len(tokens) <= _MAX_TOKENS:
                break
        if _HEADLINES[index]:
            tokens = [t.upper() for t in tokens]
        elif self.rng.random() < 0.04:  # social-media style: capitals tell nothing
            tokens = [t.lower() for t in tokens]
        return Sentence(tuple(tokens), tuple(tags))

    def _decorate(self, tokens: list[str], tags: list[str]) -> tuple[list[str], list[str]]:
        """Add an opening or closing phrase, always when the sentence is too short."""
        if len(tokens) < _MIN_TOKENS or self.rng.random() < 0.15:
            more, more_tags = self.fill(self.rng.choice(_SUFFIXES).split())
            tokens, tags = tokens[:-1] + more, tags[:-1] + more_tags
        if len(tokens) < _MIN_TOKENS or self.rng.random() < 0.15:
            more, more_tags = self.fill(self.rng.choice(_PREFIXES).split())
            if tags[0] == "O" and tokens[0] not in _KEEP_CASE:
                tokens = [tokens[0].lower()] + tokens[1:]
            tokens, tags = more + tokens, more_tags + tags
        return tokens, tags


def _tokenise(text: str) -> list[str]:
    """Split a name into tokens; a comma is its own token, "Inc." keeps its dot."""
    return text.replace(",", " , ").split()


def _recurring(seed: int, names: _Names) -> dict[str, tuple[str, ...]]:
    """A few entities per kind that recur in every split, as "Germany" does in news."""
    maker = _EntityMaker(names, random.Random(f"tiaocan-synthetic-recurring:{seed}"))
    methods = ("person", "surname", "org", "loc", "nationality", "event", "misc")
    return {m: tuple(dict.fromkeys(getattr(maker, m)() for _ in range(15))) for m in methods}


def make_corpus(
    seed: int = 0, *, n_train: int = 1500, n_dev: int = 400, n_test: int = 400
) -> Corpus:
    """Generate the synthetic corpus; the same arguments give the same corpus everywhere."""
    for name, value, least in (("n_train", n_train, 1), ("n_dev", n_dev, 1), ("n_test", n_test, 0)):
        if value < least:
            raise ValueError(f"{name} must be >= {least}, but got {value}")
    names = _load_names(seed)
    sizes = {"train": n_train, "dev": n_dev, "test": n_test}
    splits = {}
    for split, size in sizes.items():
        maker = _SentenceMaker(seed, split, names)
        splits[split] = tuple(maker.sentence() for _ in range(size))
    return Corpus(**splits, source=f"synthetic English NER (seed {seed})")
