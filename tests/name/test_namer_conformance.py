"""Every registered namer passes the same checks the moment it is registered."""

from __future__ import annotations

import pytest

from journeys.name import NAMERS, JourneyDraft, NamingContext


def _options(name: str) -> dict:
    if name == "llm":  # the real local model, shared across the session, no on-disk cache
        from tests.llm_shared import local_llm

        return {"llm": local_llm(), "cache": False}
    return {}


DRAFTS = (
    JourneyDraft("u", ("a", "b", "c"),
                 ("Ukulele chords for beginners", "How to tune a ukulele", "Easy ukulele strumming"),
                 ("ukulele", "chords", "strumming"),
                 ("Ukulele chords for beginners", "Easy ukulele strumming", "How to tune a ukulele")),
    JourneyDraft("u", ("d", "e", "f"),
                 ("Hydroponic lettuce on a windowsill", "Kratky method explained", "LED grow lights"),
                 ("hydroponics", "lettuce", "grow lights"),
                 ("Hydroponic lettuce on a windowsill", "LED grow lights", "Kratky method explained")),
    JourneyDraft("u", ("g", "h", "i"),
                 ("Ukulele songs with three chords", "Fingerpicking on the ukulele", "Ukulele strap review"),
                 ("ukulele", "songs", "fingerpicking"),
                 ("Ukulele songs with three chords", "Fingerpicking on the ukulele", "Ukulele strap review")),
)


@pytest.mark.parametrize("name", NAMERS.names())
def test_one_unique_name_per_journey_and_deterministic(name):
    namer = NAMERS.create(name, **_options(name))
    context = NamingContext("u", DRAFTS)
    first = namer.name_user(context)
    assert len(first) == len(DRAFTS)
    names = [n.name for n in first]
    assert all(n.strip() for n in names) and all(n.source for n in first)
    assert len({n.lower() for n in names}) == len(names), names  # unique within the user
    assert namer.name_user(context) == first


@pytest.mark.parametrize("name", NAMERS.names())
def test_no_drafts_no_names(name):
    assert NAMERS.create(name, **_options(name)).name_user(NamingContext("u", ())) == []
