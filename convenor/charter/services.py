"""Writes for the charter: building the detector's model file."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from convenor.charter import detector
from convenor.charter.detector import Metrics, Model


@dataclass(frozen=True, slots=True)
class TrainResult:
    model: Model
    path: Path
    seconds: float
    # The measures on the sets it never trained on, by name (see EVALUATION_SETS).
    evaluations: dict[str, Metrics]
    n_decisions: int = 0
    moderators_false_positive_rate: str = "no decisions yet"

    def summary(self) -> str:
        def line(name: str, m: Metrics) -> str:
            return (
                f"  {name:<13} n={m.n:<5} precision={m.precision:.3f} recall={m.recall:.3f} "
                f"f1={m.f1:.3f} false_positive_rate={m.false_positive_rate:.3f}"
            )

        return "\n".join(
            [
                f"Trained the charter model on {self.model.n_examples:,} examples in {self.seconds:.1f}s "
                f"(corpus {self.model.digest[:12]}); saved to {self.path}",
                *(line(name, metrics) for name, metrics in self.evaluations.items()),
                f"  moderators' decisions added: {self.n_decisions}; "
                f"measured false-positive rate (approved held posts / decided): {self.moderators_false_positive_rate}",
            ]
        )


def charter_model_train(*, with_extra: bool = False, path: Path | None = None) -> TrainResult:
    """Build the model from the corpus (plus extra.jsonl and moderators' decisions when
    `with_extra`), save it, and measure it on the held-out and independent sets.

    Deterministic: the same corpus gives the same model. Raises CorpusError on bad lines.
    """
    started = time.monotonic()
    extra = detector.extra_examples() if with_extra else []
    model = detector.train(detector.training_paths(with_extra=with_extra), extra=extra)
    seconds = time.monotonic() - started
    target = path or detector.model_path()
    model.save(target)
    detector.reset_cache()
    from convenor.charter.selectors import false_positive_rate

    return TrainResult(
        n_decisions=len(extra),
        moderators_false_positive_rate=false_positive_rate().describe() if with_extra else "not measured",
        model=model,
        path=target,
        seconds=seconds,
        evaluations=detector.evaluate_sets(model),
    )
