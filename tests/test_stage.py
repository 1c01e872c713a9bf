"""Stage: every stager passes the conformance mixin; the default gets planted stages right."""

from __future__ import annotations

import pytest

from journeys.stage import STAGERS, TimeSeriesStager, stage_features
from tests.after_shared import journey, user


class StagerConformance:
    name = ""

    def make(self):
        return STAGERS.create(self.name)

    def test_one_staged_journey_per_input_in_order_with_valid_axes(self):
        js, act = user(journey("a", [0, 1, 2, 3]), journey("b", [0, 40, 80, 120, 160, 200]), now=200)
        out = self.make().stage(js, act)
        assert [j.journey_id for j in out] == ["a", "b"]
        for j in out:
            assert j.stage_activity in ("ongoing", "ended", "") and j.stage_kind in ("evergreen", "situational", "")
            assert j.stage == ", ".join(x for x in (j.stage_activity, j.stage_kind) if x)
            assert j.item_ids == js[out.index(j)].item_ids  # nothing but the stage changes

    def test_deterministic_and_empty(self):
        js, act = user(journey("a", [0, 1, 2]), now=30)
        assert self.make().stage(js, act) == self.make().stage(js, act)
        assert self.make().stage([], act) == []


@pytest.mark.parametrize("name", STAGERS.names())
def test_every_registered_stager_is_covered(name):
    assert name in {c.name for c in StagerConformance.__subclasses__()}


class TestTimeSeries(StagerConformance):
    name = "timeseries"


class TestNone(StagerConformance):
    name = "none"


def test_planted_stages_known_answers():
    burst = journey("burst", [10, 12, 13, 15, 20])  # two weeks, long before now
    current = journey("current", [340, 343, 350, 355, 359])  # up to now
    evergreen = journey("ever", [5, 40, 75, 110, 150, 190, 230, 270, 300, 335, 358])  # all year, up to now
    lapsed = journey("lapsed", [0, 30, 60, 90, 120, 150, 180])  # all spring and summer, stopped in July
    js, act = user(burst, current, evergreen, lapsed, now=360)
    got = {j.journey_id: (j.stage_activity, j.stage_kind) for j in TimeSeriesStager().stage(js, act)}
    assert got == {"burst": ("ended", "situational"), "current": ("ongoing", "situational"),
                   "ever": ("ongoing", "evergreen"), "lapsed": ("ended", "evergreen")}


def test_a_burst_rater_has_ended_journeys_by_activity_not_by_clock():
    """All in one afternoon: the clock cannot tell, the user's 40 later events can."""
    early = journey("early", [0.0, 0.001, 0.002, 0.003])
    late = journey("late", [0.2 + k * 0.001 for k in range(40)])
    js, act = user(early, late, now=0.25)
    f = stage_features(js[0], act)
    assert f.events_after == 40 and f.since_days < 1
    got = {j.journey_id: j.stage_activity for j in TimeSeriesStager().stage(js, act)}
    assert got == {"early": "ended", "late": "ongoing"}


class YesNo:
    name = "scripted"

    def __init__(self, yes: set[str]):
        self.yes, self.asked = yes, []

    def chat(self, messages, **kw):
        q = messages[-1]["content"]
        self.asked.append(q)
        return "yes" if any(w in q for w in self.yes) else "no"


def test_llm_hint_marks_situational_topics_and_asks_once_per_name():
    wedding = journey("w", [5, 40, 75, 110, 150, 190, 230], name="Wedding planning")
    jazz = journey("j", [5, 40, 75, 110, 150, 190, 230], name="Jazz guitar")
    js, act = user(wedding, jazz, now=235)
    llm = YesNo({"Wedding"})
    stager = TimeSeriesStager(llm_hint=True, llm=llm)
    got = {j.journey_id: j.stage_kind for j in stager.stage(js, act)}
    assert got == {"w": "situational", "j": "evergreen"}
    stager.stage(js, act)
    assert len(llm.asked) == 2
