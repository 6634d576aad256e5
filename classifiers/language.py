"""Which of the five reply languages a client wrote in, from the little words every sentence has.

Acknowledgements are shipped in English, French, German, Spanish and Dutch; a client who writes in one of them is
answered in it unless their account says otherwise (blind round 22: German, Spanish, French and Dutch clients all
got English). Words two of the languages share ("de", "la", "en", "is") count for neither.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import cast

from foundation.rules import Language

FUNCTION_WORDS = {language: frozenset(words.split()) for language, words in {
    "en": "the and are you we please for with this that can could would have our your thanks thank will any "
          "what when which there from not but just also",
    "fr": "le les et est des du une vous nous pour avec ce cette merci pas sur dans qui je bonjour svp "
          "au aux mais votre nos vos sont être avons pouvez pourriez veuillez cordialement elle avez "
          "serait madame monsieur",
    "de": "der die das und ist nicht ein eine wir sie bitte danke mit für auf ich den dem noch auch können "
          "haben uns ihr euch wäre gerne vielen grüße grüßen gruß im zum zur vom zu von sehr geehrte "
          "geehrter geehrten freundlichen liebe lieber unsere unser ihre mir mich oder bis über",
    "es": "el los las y es una por para con gracias favor hola del está podéis pueden necesitamos "
          "pero muy saludos usted ustedes hay estimado estimada nuestro nuestra también cuando cómo "
          "atentamente quitar cambiar otra vez ruego nuevo nueva mandáis",
    "nl": "het een niet wij jullie graag bedankt voor met op van dat kunnen hebben ook nog alvast groet "
          "groeten zijn wordt mijn onze jij ik alstublieft groetjes hoi wel geachte heer mevrouw hoogachtend "
          "vriendelijke wilt uw wanneer",
}.items()}
# no word in two lists: "que", "un", "nos" are French and Spanish alike
_WORDS = {word: language for language, words in FUNCTION_WORDS.items() for word in words}
_TOKEN = re.compile(r"[^\W\d_]+")
AT_LEAST = 3  # words of the language found
ALONE_AT_LEAST = 2  # ...or this many, when no other language's word is there
ALONE_SHARE = 0.25  # and they are this share of the words
MARGIN = 2.0  # times as many as the next language's


def written_in(text: str) -> Language | None:
    """"en", "fr", "de", "es" or "nl" when the text is clearly in it; None when too short or too mixed to say."""
    tokens = _TOKEN.findall(text[:4000].lower())
    found = Counter(_WORDS[w] for w in tokens if w in _WORDS)
    ranked = found.most_common(2)
    # a short line in one language alone is enough ("Bitte Telefonnummer im Flyer korrigieren": two words of five,
    # none of another language; blind round 24 got English), not two chance words in a long text of another
    # language (Italian "il", Hungarian "van")
    alone = len(ranked) == 1 and ranked[0][1] >= ALONE_AT_LEAST and ranked[0][1] >= ALONE_SHARE * len(tokens)
    if not ranked or (ranked[0][1] < AT_LEAST and not alone):
        return None
    if len(ranked) > 1 and ranked[0][1] < MARGIN * ranked[1][1]:
        return None
    return cast(Language, ranked[0][0])
