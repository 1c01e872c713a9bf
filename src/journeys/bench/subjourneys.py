"""Would sub-journeys serve users? (issue 12) A measure before building them.

Bottom-up parents: a user's final journeys are grouped by average linkage on their centroids
(cosine distance, cut at `cut`); a group of two or more journeys is a parent. Ground truth on the
synthetic users is the collection's family, the part of its key before `sep` (Debian blends:
astro, games, gis, med, multimedia, science, ...; the tasks of one blend are siblings). A parent
serves only if its children are of one family (purity) and siblings end up under one parent
(same-family pairs grouped). Reported for text centroids and for ICPC's walk vectors (text mixed
with co-occurrence). Top-down parents (the journey before the Ward split) are measured by
`journeys bench movielens` with the split switched off: they are the blobs.

    journeys bench subjourneys --collections debian_blends_collections.json.gz --json
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any, Optional

import numpy as np
import typer

from journeys.extract import NOISE


def parent_groups(centroids: np.ndarray, cut: float) -> np.ndarray:
    """Group number of each journey (rows: unit centroids): average linkage, cosine distance cut."""
    if len(centroids) < 2:
        return np.zeros(len(centroids), dtype=np.int64)
    from scipy.cluster.hierarchy import fcluster, linkage

    tree = linkage(np.asarray(centroids, dtype=np.float64), method="average", metric="cosine")
    return fcluster(tree, cut, criterion="distance").astype(np.int64) - 1


def family_scores(groups: np.ndarray, families: list[str]) -> tuple[int, int, int, int]:
    """(parents, parents of one family, same-family journey pairs, of them under one parent)."""
    parents = pure = pairs = grouped = 0
    for g in set(groups.tolist()):
        members = [f for f, h in zip(families, groups) if h == g]
        if len(members) >= 2:
            parents += 1
            pure += len(set(members)) == 1
    for i in range(len(families)):
        for j in range(i + 1, len(families)):
            if families[i] == families[j]:
                pairs += 1
                grouped += int(groups[i] == groups[j])
    return parents, pure, pairs, grouped


def _unit(v: np.ndarray) -> np.ndarray:
    return v / max(float(np.linalg.norm(v)), 1e-12)


def run(collections: str | Path, users: int = 200, seed: int = 0, profile: str = "light",
        cuts: tuple[float, ...] = (0.3, 0.4, 0.5, 0.6), sep: str = "-", embedder: str | None = None) -> dict[str, Any]:
    from journeys.bench import extraction
    from journeys.bench.synth import PROFILES

    p = PROFILES[profile]
    bench = extraction.prepare(collections, users=users, seed=seed, k=p["k"], items=p["items"],
                               popularity=p["popularity"], embedder=embedder)
    clusterer = extraction.make_clusterer(bench, "icpc")
    pipe = extraction.pipeline_for(bench, clusterer).prepare(bench.data.items, bench.data.events)
    per_user = []
    for user, events in bench.data.events_by_user().items():
        hist = pipe.history(user, events)
        labels = clusterer.assign(hist)
        ks = [int(k) for k in np.unique(labels[labels != NOISE])]
        if len(ks) < 2:
            continue
        truth = bench.data.truth[user]
        fams = []
        for k in ks:
            key = Counter(truth.get(hist.item_ids[j]) for j in np.flatnonzero(labels == k)).most_common(1)[0][0]
            fams.append(key.split(sep)[0] if key else "(noise)")
        walk, _ = clusterer.walk(hist)
        cents = {rep: np.stack([_unit(v[labels == k].sum(0)) for k in ks])
                 for rep, v in (("text", hist.vectors), ("text+cooccurrence", walk))}
        per_user.append((fams, cents))
    rows = []
    for rep in ("text", "text+cooccurrence"):
        for cut in cuts:
            tot = np.zeros(4, dtype=np.int64)
            for fams, cents in per_user:
                tot += family_scores(parent_groups(cents[rep], cut), fams)
            rows.append({"centroids": rep, "cut": cut, "parents_per_user": tot[0] / max(len(per_user), 1),
                         "parent_purity": tot[1] / max(tot[0], 1), "siblings_grouped": tot[3] / max(tot[2], 1)})
    return {"setup": {**bench.setup, "profile": profile, "users_with_2_journeys": len(per_user)}, "results": rows}


def subjourneys_cmd(
    collections: Path = typer.Option(..., "--collections", help="collections file whose keys are FAMILY-TASK"),
    users: int = typer.Option(200, "--users", min=1),
    seed: int = typer.Option(0, "--seed"),
    profile: str = typer.Option("light", "--profile", help="light or heavy"),
    cuts: str = typer.Option("0.3,0.4,0.5,0.6", "--cuts", help="cosine-distance cuts, comma list"),
    embedder: Optional[str] = typer.Option(None, "--embedder"),
    as_json: bool = typer.Option(False, "--json", help="end with one JSON line of results"),
) -> None:
    """Would bottom-up sub-journeys serve users? Parent purity and siblings grouped by cut."""
    import json

    out = run(collections, users, seed, profile, tuple(float(c) for c in cuts.split(",")), embedder=embedder)
    for r in out["results"]:
        typer.echo(f"{r['centroids']:18s} cut {r['cut']:.2f}: parents/user {r['parents_per_user']:.2f}, "
                   f"parents of one family {r['parent_purity']:.2f}, same-family pairs grouped {r['siblings_grouped']:.2f}")
    if as_json:
        typer.echo(json.dumps(out, default=float))


def register(bench_app: typer.Typer) -> None:
    bench_app.command("subjourneys")(subjourneys_cmd)
