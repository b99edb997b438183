"""Benchmark the charter's detector: prints JSON.

Figures: scoring throughput (posts/s) and latency p50/p95 of ``score()`` over the held-out
and independent texts (short and long, every industry), the latency that scoring adds to
publishing a post (Markdown rendering with and without ``score()``), and the held-out
and independent metrics. Target: scoring adds at most 5 ms at p50.

    .venv/bin/python bench/charter.py
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "convenor.settings")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    import django

    django.setup()
    from convenor.charter import detector
    from convenor.spaces.markdown import render

    model = detector.get_model()  # loaded once per process, like the web server
    texts = [
        e.text
        for name in ("heldout.jsonl", "independent.jsonl", "train.jsonl")
        for e in detector.read_jsonl(detector.CORPUS_DIR / name)[0]
    ][:3000]
    for t in texts[:50]:  # warm-up
        detector.score(t)

    latencies = []
    started = time.perf_counter()
    for t in texts:
        t0 = time.perf_counter()
        detector.score(t)
        latencies.append((time.perf_counter() - t0) * 1000)
    elapsed = time.perf_counter() - started

    # Publishing: render Markdown alone, then render + score, alternating per post.
    plain, scored = [], []
    for t in texts[:1500]:
        t0 = time.perf_counter()
        render(t)
        plain.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        render(t)
        detector.score(t)
        scored.append((time.perf_counter() - t0) * 1000)
    added = [s - p for s, p in zip(scored, plain, strict=True)]

    evaluations = detector.evaluate_sets(model)
    print(
        json.dumps(
            {
                "texts": len(texts),
                "mean_chars": round(statistics.mean(len(t) for t in texts)),
                "posts_per_second": round(len(texts) / elapsed),
                "score_p50_ms": round(_percentile(latencies, 0.5), 3),
                "score_p95_ms": round(_percentile(latencies, 0.95), 3),
                "publish_without_score_p50_ms": round(_percentile(plain, 0.5), 3),
                "publish_with_score_p50_ms": round(_percentile(scored, 0.5), 3),
                "added_latency_p50_ms": round(_percentile(added, 0.5), 3),
                "added_latency_p95_ms": round(_percentile(added, 0.95), 3),
                "target_added_p50_ms": 5.0,
                **{name: metrics.as_dict() for name, metrics in evaluations.items()},
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
