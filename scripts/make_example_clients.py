"""Write transcripts_example/outcomes_clients.csv: a SYNTHETIC client-level table for the demo.

Its structure follows the client data described in DOMAIN.md (site, referral source,
meetings, job start, wellbeing at baseline and follow-up); its values are drawn at random
(seed 7) from a logistic model whose odds ratios echo the published pattern (more meetings,
self-referral -> higher odds), and three wellbeing-change groups (steady improvers, of
concern, strong improvers). It is not real data.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

SITES = {  # site -> (clients, log-odds shift), shifts loosely following the site job rates
    "Berkshire": (120, 0.0), "Bradford": (100, 0.35), "Lincolnshire": (90, 0.25),
    "Luton & Bedfordshire": (130, 0.45), "Northamptonshire": (70, -0.7), "Wiltshire": (80, 0.4),
}
SOURCES = {"Jobcentre": -1.5, "Treatment service": 0.0, "Self-referral": 1.0}
BANDS = {"1-4": 0.0, "5-8": math.log(4), "9-12": math.log(7), "13+": math.log(15)}


def main() -> None:
    rng = random.Random(7)
    out = Path(__file__).resolve().parent.parent / "transcripts_example" / "outcomes_clients.csv"
    rows = []
    n = 0
    for site, (count, shift) in SITES.items():
        for _ in range(count):
            n += 1
            source = rng.choices(list(SOURCES), weights=[3, 6, 2])[0]
            band = rng.choices(list(BANDS), weights=[4, 3, 2, 2])[0]
            age = rng.randint(19, 64)
            logit = -2.3 + shift + SOURCES[source] + BANDS[band] - 0.01 * (age - 40)
            job = int(rng.random() < 1 / (1 + math.exp(-logit)))
            group = rng.choices(["steady", "concern", "strong"], weights=[82, 4, 14])[0]
            gain = {"steady": (4, 0.6), "concern": (-8, -1.2), "strong": (14, 2.2)}[group]
            w0, c0 = rng.randint(30, 50), rng.randint(2, 6)
            follow = rng.random() > 0.12  # about one in eight have no follow-up
            rows.append({
                "client_id": f"C{n:04d}", "site": site, "referral_source": source, "meetings_band": band,
                "age": age if rng.random() > 0.03 else "", "job_start": job,
                "wemwbs_base": w0, "wemwbs_follow": round(w0 + rng.gauss(*gain[:1], 2.5)) if follow else "",
                "confidence_base": c0,
                "confidence_follow": max(0, min(10, round(c0 + rng.gauss(gain[1], 0.5)))) if follow else "",
            })
    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out} ({len(rows)} synthetic clients)")


if __name__ == "__main__":
    main()
