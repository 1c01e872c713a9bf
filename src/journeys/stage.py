"""Stage: where a journey stands, on Pinterest's two axes.

- activity: `ongoing` or `ended`. The time since the journey's last event is compared with its
  own typical gap and with the user's cadence (clock time), and the user's events since then with
  how many of the user's events usually pass between two of the journey's (activity time, which
  matters for people who act in bursts).
- kind: `evergreen` or `situational`. Evergreen journeys recur across months (enough distinct
  months, a long enough span, no single month holding most of the events); a burst of days to
  weeks is situational. An optional LLM hint marks topics that are situational by nature
  (a wedding, a move, a trip, a season).

`Journey.stage` is the short text of both ("ongoing, evergreen").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from journeys.activity import DAY, UserActivity
from journeys.registry import Registry
from journeys.types import Journey, JourneyStage

MONTH_DAYS = 30.0


@dataclass(frozen=True)
class StageFeatures:
    n_events: int
    since_days: float  # now - last event
    gap_days: float  # the journey's typical (mean) gap between events
    user_gap_days: float  # the user's typical gap between events
    events_after: int  # the user's events after the journey's last one
    events_per_gap: float  # the user's events per journey event within the journey's span
    span_days: float
    months_active: int  # distinct 30-day bins (from the first event) with events
    peak_share: float  # share of events in the busiest bin
    burstiness: float  # (sd - mean) / (sd + mean) of the gaps, in [-1, 1]


def _user_times(act: UserActivity) -> tuple[np.ndarray, np.ndarray]:
    """The user's event times (epoch seconds) and the gaps in days between distinct ones; the same
    for each of their journeys, so worked out once per activity."""
    def make() -> tuple[np.ndarray, np.ndarray]:
        user_t = np.asarray(act.seconds())
        return user_t, (np.diff(np.unique(user_t)) / DAY if len(user_t) > 1 else np.zeros(0))

    return act.memo("stage_times", make)


def stage_features(j: Journey, act: UserActivity) -> StageFeatures:
    evs = act.journey_events(j)
    user_t, user_gaps = _user_times(act)
    if not evs:
        return StageFeatures(0, act.days_before_now(j.last_seen), 0.0, 0.0, 0, 1.0, 0.0, 0, 1.0, 0.0)
    t = np.asarray([e.timestamp.timestamp() for e in evs])
    gaps = np.diff(t) / DAY
    span = float(t[-1] - t[0]) / DAY
    bins = np.floor((t - t[0]) / (MONTH_DAYS * DAY)).astype(int)
    counts = np.bincount(bins)
    in_span = int(((user_t >= t[0]) & (user_t <= t[-1])).sum())
    mean, sd = (float(gaps.mean()), float(gaps.std())) if len(gaps) else (0.0, 0.0)
    return StageFeatures(
        n_events=len(evs),
        since_days=act.days_before_now(evs[-1].timestamp),
        gap_days=mean,
        user_gap_days=float(np.median(user_gaps)) if len(user_gaps) else 0.0,
        events_after=int((user_t > t[-1]).sum()),
        events_per_gap=in_span / len(evs),
        span_days=span,
        months_active=int((counts > 0).sum()),
        peak_share=float(counts.max() / len(evs)),
        burstiness=(sd - mean) / (sd + mean) if sd + mean > 0 else 0.0,
    )


@runtime_checkable
class Stager(Protocol):
    name: str

    def stage(self, journeys: Sequence[Journey], activity: UserActivity) -> list[Journey]: ...


STAGERS: Registry[Stager] = Registry("stager")


def with_stage(j: Journey, activity: str, kind: str) -> Journey:
    return dataclasses.replace(j, stage_activity=activity, stage_kind=kind,
                               stage=f"{activity}, {kind}" if activity and kind else activity or kind)


HINT_SYSTEM = ("Decide whether an interest is situational: tied to one event or period of life "
               "(a wedding, a move, a trip, a season, a new baby, an exam) rather than lasting. "
               "Answer yes or no.")
HINT_EXAMPLES = (("Wedding planning", "yes"), ("Jazz guitar", "no"), ("Moving to Berlin", "yes"),
                 ("Sourdough baking", "no"), ("Christmas decorations", "yes"), ("Science fiction films", "no"))


def hint_messages(name: str) -> list[dict]:
    msgs = [{"role": "system", "content": HINT_SYSTEM}]
    for q, a in HINT_EXAMPLES:
        msgs += [{"role": "user", "content": f"Interest: {q}. Situational?"}, {"role": "assistant", "content": a}]
    return msgs + [{"role": "user", "content": f"Interest: {name}. Situational?"}]


@STAGERS.register("timeseries")
class TimeSeriesStager:
    """The default: reads the journey's own events against the user's activity (see module doc).
    `llm_hint=True` asks an LLM (`llm` object, or `backend` + options) whether an evergreen-looking
    topic is situational by nature."""

    name = "timeseries"

    def __init__(self, gap_factor: float = 3.0, user_gap_factor: float = 3.0, min_days: float = 14.0,
                 events_factor: float = 4.0, min_events_after: int = 10, evergreen_months: int = 3,
                 evergreen_span_days: float = 90.0, max_peak_share: float = 0.6, llm_hint: bool = False,
                 llm=None, backend: str = "auto", **backend_options: object):
        self.gap_factor = gap_factor
        self.user_gap_factor = user_gap_factor
        self.min_days = min_days
        self.events_factor = events_factor
        self.min_events_after = min_events_after
        self.evergreen_months = evergreen_months
        self.evergreen_span_days = evergreen_span_days
        self.max_peak_share = max_peak_share
        self.llm_hint = llm_hint
        self.backend = backend
        self.backend_options = backend_options
        self._llm = llm
        self._hints: dict[str, bool] = {}

    def activity(self, f: StageFeatures) -> str:
        tolerance = max(self.gap_factor * f.gap_days, self.user_gap_factor * f.user_gap_days, self.min_days)
        by_events = f.events_after > max(self.events_factor * f.events_per_gap, self.min_events_after)
        return JourneyStage.ENDED.value if f.since_days > tolerance or by_events else JourneyStage.ONGOING.value

    def kind(self, f: StageFeatures) -> str:
        lasting = (f.months_active >= self.evergreen_months and f.span_days >= self.evergreen_span_days
                   and f.peak_share <= self.max_peak_share)
        return JourneyStage.EVERGREEN.value if lasting else JourneyStage.SITUATIONAL.value

    def situational_by_nature(self, name: str) -> bool:
        if name not in self._hints:
            if self._llm is None:
                from journeys.llm import LLMS

                self._llm = LLMS.create(self.backend, **self.backend_options)
            answer = self._llm.chat(hint_messages(name), max_tokens=3, stop=["\n"])
            self._hints[name] = answer.strip().lower().startswith("yes")
        return self._hints[name]

    def stage(self, journeys: Sequence[Journey], activity: UserActivity) -> list[Journey]:
        out = []
        for j in journeys:
            f = stage_features(j, activity)
            kind = self.kind(f)
            if self.llm_hint and kind == JourneyStage.EVERGREEN.value and self.situational_by_nature(j.name):
                kind = JourneyStage.SITUATIONAL.value
            out.append(with_stage(j, self.activity(f), kind))
        return out


@STAGERS.register("none")
class NoStager:
    """Leaves journeys unstaged (empty stage fields)."""

    name = "none"

    def __init__(self, **_: object):
        pass

    def stage(self, journeys: Sequence[Journey], activity: UserActivity) -> list[Journey]:
        return [with_stage(j, "", "") for j in journeys]
