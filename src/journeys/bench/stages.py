"""Planted stage journeys (BENCHMARKS.md section 6, synthetic part).

Each synthetic user pursues one journey of each planted kind, judged at `now` = day 365:
- `burst`: situational and ended: 4-12 events within 7-28 days, ending 60-250 days before now;
- `current`: situational and ongoing: 4-12 events within 7-28 days, the last 0-3 days before now;
- `evergreen`: evergreen and ongoing: one or two events in each of 10-12 months, up to now;
- `lapsed`: evergreen and ended: monthly over 5-8 months, stopped 90-150 days before now.
The stager sees only the journeys and the user's events; accuracy per axis with confusion matrices.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import numpy as np

from journeys.activity import UserActivity
from journeys.stage import STAGERS
from journeys.types import Event, Journey

NOW_DAY = 365.0
EPOCH = datetime(2024, 1, 1, tzinfo=timezone.utc)
TRUTH = {"burst": ("ended", "situational"), "current": ("ongoing", "situational"),
         "evergreen": ("ongoing", "evergreen"), "lapsed": ("ended", "evergreen")}
AXES = {"activity": ("ongoing", "ended"), "kind": ("evergreen", "situational")}


def _days(kind: str, rng: np.random.Generator) -> np.ndarray:
    if kind in ("burst", "current"):
        dur = rng.uniform(7, 28)
        end = NOW_DAY - (rng.uniform(60, 250) if kind == "burst" else rng.uniform(0, 3))
        inner = rng.uniform(end - dur, end, size=int(rng.integers(2, 11)))
        return np.sort(np.concatenate([[end - dur, end], inner]))
    months = int(rng.integers(10, 13)) if kind == "evergreen" else int(rng.integers(5, 9))
    end = NOW_DAY - (rng.uniform(0, 20) if kind == "evergreen" else rng.uniform(90, 150))
    starts = end - 30.0 * np.arange(months)[::-1]
    out = [s - rng.uniform(0, 20, size=int(rng.integers(1, 3))) for s in starts[:-1]] + [[end]]
    return np.sort(np.concatenate(out))


def planted_users(n_users: int = 200, seed: int = 0):
    rng = np.random.default_rng(seed)
    for u in range(n_users):
        user = f"s{u:03d}"
        journeys, events = [], []
        for kind in TRUTH:
            days = _days(kind, rng)
            items = tuple(f"{user}-{kind}-{k}" for k in range(len(days)))
            when = [EPOCH + timedelta(days=float(d)) for d in days]
            events += [Event(user, i, t) for i, t in zip(items, when)]
            journeys.append(Journey(f"{user}-{kind}", user, kind, "planted", (), items, len(items), when[0], when[-1]))
        yield journeys, UserActivity.of(user, events, EPOCH + timedelta(days=NOW_DAY))


def run(n_users: int = 200, seed: int = 0, stager: str = "timeseries") -> dict:
    model = STAGERS.create(stager)
    conf = {axis: {t: {p: 0 for p in labels} for t in labels} for axis, labels in AXES.items()}
    by_kind: dict[str, list[int]] = {k: [0, 0] for k in TRUTH}
    for journeys, act in planted_users(n_users, seed):
        for j in model.stage(journeys, act):
            truth = TRUTH[j.name]
            for axis, t, p in (("activity", truth[0], j.stage_activity), ("kind", truth[1], j.stage_kind)):
                row = conf[axis][t]
                row[p or "unstaged"] = row.get(p or "unstaged", 0) + 1
            by_kind[j.name][0] += (j.stage_activity, j.stage_kind) == truth
            by_kind[j.name][1] += 1
    acc = {axis: sum(m[t][t] for t in m) / sum(sum(r.values()) for r in m.values()) for axis, m in conf.items()}
    return {"users": n_users, "seed": seed, "stager": stager, "accuracy": acc, "confusion": conf,
            "both_right_by_planted_kind": {k: c / n for k, (c, n) in by_kind.items()}}


def command(bench_app) -> None:
    """Mount `journeys bench journeys` (the synthetic stage part plus MovieLens cut at 80%)."""
    import typer

    @bench_app.command("journeys")
    def journeys_cmd(
        dataset: str = typer.Option("movielens-small", "--dataset", help="movielens-small | movielens-100k | none"),
        users: int = typer.Option(200, "--synthetic-users", min=1, help="planted stage users"),
        seed: int = typer.Option(0, "--seed"),
        max_users: int = typer.Option(None, "--max-users", help="only the first N MovieLens users"),
        embedder: str = typer.Option(None, "--embedder", help="override the configured embedder"),
        as_json: bool = typer.Option(False, "--json", help="end with one JSON line"),
        llm_users: int = typer.Option(0, "--llm-users", help="also run the llm expansion source on N users"),
    ) -> None:
        """Stage, rank, diversify and expand, measured (BENCHMARKS.md section 6)."""
        from journeys.bench import after_ml, report

        out = {"synthetic": run(users, seed)}
        syn = out["synthetic"]
        typer.echo(f"stage on planted users ({users}, seed {seed}): accuracy activity "
                   f"{syn['accuracy']['activity']:.3f}, kind {syn['accuracy']['kind']:.3f}; confusion {syn['confusion']}")
        if dataset != "none":
            ml = out["movielens"] = after_ml.run(dataset, embedder, max_users, seed=seed, llm_users=llm_users)
            st, rk, dv, ex = ml["stage"], ml["rank"], ml["diversify"], ml["expand"]
            typer.echo(f"{dataset} ({ml['setup']['users']} users, {ml['setup']['embedder']}): ongoing precision "
                       f"{st['precision_ongoing']:.3f} recall {st['recall_ongoing']:.3f} (base rate {st['base_rate']:.3f})")
            typer.echo("NDCG@3 " + ", ".join(f"{k} {v:.3f}" for k, v in rk["ndcg@3"].items()) + f" ({rk['users']} users)")
            typer.echo("learned minus " + ", ".join(f"{k} {v['diff']:+.4f} (95% CI {v['ci95']})"
                                                    for k, v in rk["learned_minus"].items()))
            typer.echo(f"top-3 similarity without {dv['mean_sim_top3_without']:.3f} / with penalty "
                       f"{dv['mean_sim_top3_with']:.3f} (threshold {dv['threshold']}, {dv['top3_changed']} of "
                       f"{dv['users']} top-3 sets changed)")
            for g in ("collaborative", "centroid"):
                e = ex[g]
                typer.echo(f"expansion hit rate ({g} grounding) {e['hit_rate_expansion']:.3f} vs random "
                           f"{e['hit_rate_random']:.3f}, diff {e['diff']:+.3f} (95% CI {e['ci95']}, {ex['users']} users)")
            if "llm" in ex:
                e = ex["llm"]
                typer.echo(f"llm expansion hit rate {e['hit_rate_expansion']:.3f} vs random {e['hit_rate_random']:.3f}, "
                           f"diff {e['diff']:+.3f} (95% CI {e['ci95']}, {e['users']} users)")
        if as_json:
            typer.echo(report.json_line(out))
