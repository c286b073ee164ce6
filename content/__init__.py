"""The coaching knowledge: data files and the pure engines that evaluate them.

Nothing in this package imports telegram or sqlalchemy. `load_content()` reads and validates
every data file once; a broken file fails loudly at start-up, naming the file and the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from content.advice import Rulebook, load_rulebook
from content.helplines import load_helplines
from content.intake import Question, load_intake
from content.loader import Source, Texts, load_sources, load_texts
from content.program import Phase, load_phases
from content.screen import load_cues, load_patterns, load_shorthand
from content.timezones import TimezoneCatalog, load_timezones
from content.understand import load_book


@dataclass(frozen=True)
class Content:
    sources: Mapping[str, Source]
    texts: Texts
    intake: Mapping[str, Question]
    phases: Mapping[str, Phase]
    timezones: TimezoneCatalog
    rulebook: Rulebook


@cache
def load_content() -> Content:
    return Content(
        sources=load_sources(),
        texts=load_texts(),
        intake=load_intake(),
        phases=load_phases(),
        timezones=load_timezones(),
        rulebook=load_rulebook(),
    )


def check_all_content() -> Content:
    """Load and validate every data file (start-up and tests): a broken file fails here."""
    content = load_content()
    load_patterns()
    load_cues()
    load_shorthand()
    # here, so `python -m content.semantic` (or .classifier) runs it only once
    from content import classifier, semantic

    if semantic.warm():
        classifier.warm()
    load_helplines()
    load_book()  # the understanding's compiled intents (about 0.15 s): not at the first message
    return content
