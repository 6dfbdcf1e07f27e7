"""Billing benchmark: what each function pays at cold start for its imports, and what one webhook
delivery costs by outcome, on a fresh PostgreSQL database with Clerk faked over HTTP.

    .venv/bin/python benchmarks/stripe_webhook.py [--lifecycles 30]

Prints the import time of each function's main.py in a fresh interpreter (best of 5, and as a
ratio to history's), then p50/p99 latency per webhook outcome (applied with and without a Clerk
update, held, duplicate, stale) and each p50 as a ratio to the duplicate's (the floor: verify the
signature, take the lock, find the event row)."""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import create_database, drop_database, function_client, migrate  # noqa: E402
from tests.fakes.clerk_api import FakeClerk  # noqa: E402
from tests.support.stripe_objects import sign  # noqa: E402
from tests.test_stripe_webhook import PRICE_PRO, SECRET, Lifecycle, five_events  # noqa: E402

FUNCTIONS = ("history", "billing", "stripe_webhook")


def import_seconds(function: str, runs: int = 5) -> float:
    probe = (
        "import importlib.util, time\n"
        "t = time.perf_counter()\n"
        f"spec = importlib.util.spec_from_file_location('main', 'functions/{function}/main.py')\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(time.perf_counter() - t)\n"
    )
    env = {"PYTHONPATH": str(ROOT), "LOG_LEVEL": "WARNING"}
    return min(
        float(
            subprocess.run(  # noqa: S603  (our own interpreter on a fixed probe)
                [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    )


def webhook_latencies(lifecycles: int) -> dict[str, list[float]]:
    url = create_database("crv_bench")
    clerk = FakeClerk()
    try:
        migrate(url)
        clerk.server.start()
        os.environ.update(
            DATABASE_URL=url,
            LOG_LEVEL="WARNING",
            STRIPE_WEBHOOK_SECRET=SECRET,
            STRIPE_PRICE_ID_PRO=PRICE_PRO,
            CLERK_SECRET_KEY="sk_test_clerk",  # noqa: S106  (the fake's key)
            CLERK_API_URL=clerk.url,
        )
        client = function_client("stripe_webhook")
        deliveries = [evt for _ in range(lifecycles) for evt in Lifecycle().events(5) * 2]
        # and as many subscriptions made without our metadata: their events are held until checkout
        deliveries += [evt for _ in range(lifecycles) for evt in five_events(Lifecycle(), metadata=False) * 2]
        random.Random(1).shuffle(deliveries)  # noqa: S311  (an order, not a secret)
        by_outcome: dict[str, list[float]] = defaultdict(list)
        for evt in deliveries:
            payload = json.dumps(evt)
            clerk_calls = len(clerk.updates)
            started = time.perf_counter()
            response = client.post("/", data=payload, headers={"Stripe-Signature": sign(payload, SECRET)})
            elapsed = time.perf_counter() - started
            outcome = response.json["outcome"]
            if outcome == "applied":
                outcome += " + Clerk" if len(clerk.updates) > clerk_calls else " (no plan change)"
            by_outcome[outcome].append(elapsed)
        return by_outcome
    finally:
        clerk.server.stop()
        drop_database(url)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--lifecycles", type=int, default=30, help="subscriptions, 13 events each, each delivered twice"
    )
    args = parser.parse_args()

    print("cold-start imports (best of 5, fresh interpreter)")
    times = {name: import_seconds(name) for name in FUNCTIONS}
    for name, seconds in times.items():
        print(f"  {name:15s} {seconds * 1000:7.1f} ms   x{seconds / times['history']:.2f} of history")

    print(f"\nwebhook deliveries ({args.lifecycles} lifecycles x 13 events x 2, as many x 5 held-first, shuffled)")
    latencies = webhook_latencies(args.lifecycles)
    floor = statistics.median(latencies["duplicate"])
    for outcome, values in sorted(latencies.items()):
        values.sort()
        p50, p99 = statistics.median(values), values[min(len(values) - 1, int(len(values) * 0.99))]
        print(
            f"  {outcome:28s} n={len(values):4d}  p50 {p50 * 1000:6.2f} ms  p99 {p99 * 1000:6.2f} ms  x{p50 / floor:.2f}"
        )


if __name__ == "__main__":
    main()
