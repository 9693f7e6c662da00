"""Generate the bundled match datasets deterministically.

The data are simulated (fictional clubs, Poisson goals driven by a latent team strength, a
provider-style Elo rating recorded before each match), so they are free to ship and identical on
every run: only the standard library's seeded ``random.Random`` is used.

    python scripts/make_sample_data.py

writes ``data/raw/matches.csv`` (2000 matches) and ``data/sample/matches_small.csv`` (the most
recent 200 of them). After regenerating, refresh the DVC hashes with
``python scripts/update_dvc_lock.py``.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import math
import random
from pathlib import Path

TEAMS = (
    "Northbridge FC",
    "Rivermouth United",
    "Ashford Athletic",
    "Kingsport Rovers",
    "Millbrook Town",
    "Eastfield City",
    "Harrowgate Albion",
    "Westmere Wanderers",
    "Stonehill Rangers",
    "Briarwood Villa",
    "Coldharbour County",
    "Larkspur Borough",
    "Oakhaven Orient",
    "Pinecrest Park",
    "Redcliffe Athletic",
    "Saltmarsh United",
    "Thornbury Town",
    "Upton Vale",
    "Whitecross City",
    "Yarrow Dynamo",
)
COLUMNS = (
    "match_id",
    "date",
    "season",
    "league",
    "home_team",
    "away_team",
    "home_goals",
    "away_goals",
    "home_shots",
    "away_shots",
    "home_elo",
    "away_elo",
    "result",
)
LEAGUE = "SPL"
FIRST_SEASON = 2019
TOTAL_MATCHES = 2000
SAMPLE_MATCHES = 200
ELO_K = 20.0
ELO_HOME_ADVANTAGE = 60.0


def poisson(rng: random.Random, lam: float) -> int:
    """Knuth's Poisson sampler: exact and stable for the small rates used here."""
    limit = math.exp(-lam)
    k = 0
    p = 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def round_robin(teams: list[str]) -> list[list[tuple[str, str]]]:
    """Double round robin by the circle method: a list of matchdays of (home, away) pairs."""
    n = len(teams)
    order = list(teams)
    first_half: list[list[tuple[str, str]]] = []
    for day in range(n - 1):
        pairs = []
        for i in range(n // 2):
            a, b = order[i], order[n - 1 - i]
            pairs.append((a, b) if (day + i) % 2 == 0 else (b, a))
        first_half.append(pairs)
        order = [order[0], order[-1], *order[1:-1]]
    second_half = [[(b, a) for a, b in day] for day in first_half]
    return first_half + second_half


def simulate(seed: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    strength = {team: rng.gauss(0.0, 0.3) for team in TEAMS}
    elo = {team: 1500.0 + 250.0 * s for team, s in strength.items()}
    rows: list[dict[str, object]] = []
    season = FIRST_SEASON
    while len(rows) < TOTAL_MATCHES:
        teams = list(TEAMS)
        rng.shuffle(teams)
        kickoff = dt.date(season, 8, 10)
        for matchday, pairs in enumerate(round_robin(teams)):
            saturday = kickoff + dt.timedelta(days=7 * matchday)
            for i, (home, away) in enumerate(pairs):
                if len(rows) >= TOTAL_MATCHES:
                    break
                diff = strength[home] - strength[away]
                lam_home = 1.45 * math.exp(0.9 * diff)
                lam_away = 1.15 * math.exp(-0.9 * diff)
                hg = poisson(rng, lam_home)
                ag = poisson(rng, lam_away)
                hs = hg + poisson(rng, 8.0 + 3.0 * lam_home)
                as_ = ag + poisson(rng, 7.0 + 3.0 * lam_away)
                result = "H" if hg > ag else ("A" if ag > hg else "D")
                rows.append(
                    {
                        "match_id": f"{LEAGUE}-{season}-{len(rows) + 1:05d}",
                        "date": (saturday + dt.timedelta(days=i % 2)).isoformat(),
                        "season": season,
                        "league": LEAGUE,
                        "home_team": home,
                        "away_team": away,
                        "home_goals": hg,
                        "away_goals": ag,
                        "home_shots": hs,
                        "away_shots": as_,
                        "home_elo": f"{elo[home]:.1f}",
                        "away_elo": f"{elo[away]:.1f}",
                        "result": result,
                    }
                )
                expected = 1.0 / (1.0 + 10 ** ((elo[away] - elo[home] - ELO_HOME_ADVANTAGE) / 400))
                score = 1.0 if hg > ag else (0.5 if hg == ag else 0.0)
                margin = math.log(abs(hg - ag) + 1.0) + 1.0
                delta = ELO_K * margin * (score - expected)
                elo[home] += delta
                elo[away] -= delta
        # Strength drifts a little between seasons, as squads change.
        for team in TEAMS:
            strength[team] = 0.85 * strength[team] + rng.gauss(0.0, 0.1)
        season += 1
    return rows


def write_csv(path: Path, rows: list[dict[str, object]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=20240811)
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args()
    rows = simulate(args.seed)
    write_csv(args.root / "data" / "raw" / "matches.csv", rows)
    write_csv(args.root / "data" / "sample" / "matches_small.csv", rows[-SAMPLE_MATCHES:])
    print(f"wrote {len(rows)} matches and a {SAMPLE_MATCHES}-match sample")


if __name__ == "__main__":
    main()
