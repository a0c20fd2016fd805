"""The figures by which people judge the classifier, computed and printed one way everywhere.

The held-out evaluation of each training (stored in ClassifierRun.metrics, shown on the
classifier page) and `support classify --csv` both use `scores` and `format_scores`:

* accuracy, and macro-F1 averaged over the labels the *truth* holds: a class the model can
  predict but the data never has (a shipped department a company does not use) is not a
  zero-F1 class of the average; predictions of such labels are counted apart
  ("predicted_only") and, being wrong, lower accuracy and the true classes' precision;
* precision, recall, F1 and support per true class, and the confusion matrix;
* calibration (reliability): in bands of confidence, how often the model was right, and the
  expected calibration error (ECE), the gap averaged over all mails;
* triage: the share of mails below the confidence threshold (CLASSIFIER_MIN_CONFIDENCE) that
  would wait in the triage inbox, and the accuracy on the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

CALIBRATION_BANDS = ((0.0, 0.3), (0.3, 0.45), (0.45, 0.6), (0.6, 0.75), (0.75, 0.9), (0.9, 1.01))


def _key(label: Any) -> str:
    return str(label)


def calibration(confidences: Sequence[float], correct: Sequence[bool]) -> dict[str, Any]:
    """Per band: mails, mean confidence, accuracy; and the expected calibration error."""
    bands = []
    gap = 0.0
    for low, high in CALIBRATION_BANDS:
        members = [i for i, c in enumerate(confidences) if low <= c < high]
        if not members:
            continue
        mean = sum(confidences[i] for i in members) / len(members)
        accuracy = sum(bool(correct[i]) for i in members) / len(members)
        gap += len(members) * abs(mean - accuracy)
        bands.append(
            {
                "low": low,
                "high": min(high, 1.0),
                "n": len(members),
                "confidence": round(mean, 4),
                "accuracy": round(accuracy, 4),
            }
        )
    ece = gap / len(confidences) if confidences else 0.0
    return {"bands": bands, "ece": round(ece, 4)}


def triage(
    confidences: Sequence[float], correct: Sequence[bool], threshold: float
) -> dict[str, Any]:
    """How many mails the threshold sends to triage, and how right the model is on the rest."""
    routed = [i for i, c in enumerate(confidences) if c >= threshold]
    n = len(confidences)
    return {
        "threshold": threshold,
        "share": round(1 - len(routed) / n, 4) if n else 0.0,
        "routed": len(routed),
        "routed_accuracy": (
            round(sum(bool(correct[i]) for i in routed) / len(routed), 4) if routed else None
        ),
    }


def _confusion_rows(
    truth: Sequence[str], predicted: Sequence[str], rows: list[str], columns: list[str]
) -> list[list[int]]:
    """Counts of (true, predicted) pairs: a row per true label, a column per label seen."""
    pairs = Counter(zip(truth, predicted, strict=True))
    return [[pairs[(row, column)] for column in columns] for row in rows]


def scores(
    truth: Sequence[Any],
    predicted: Sequence[Any],
    confidences: Sequence[float] | None = None,
    *,
    min_confidence: float | None = None,
) -> dict[str, Any]:
    """All figures of one target (see the module docstring); labels are compared as text.

    scikit-learn is imported here: the classifier page and `support train`'s report read
    `format_scores` of figures already stored, and need none of it."""
    from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support

    truth = [_key(t) for t in truth]
    predicted = [_key(p) for p in predicted]
    labels = sorted(set(truth))
    extra = sorted(set(predicted) - set(labels))
    precision, recall, f1, support = precision_recall_fscore_support(
        truth, predicted, labels=labels, zero_division=0
    )
    matrix_labels = labels + extra
    result: dict[str, Any] = {
        "accuracy": float(accuracy_score(truth, predicted)),
        "macro_f1": float(
            f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)
        ),
        "macro_f1_over": "true labels",
        "per_class": {
            label: {
                "precision": float(precision[i]),
                "recall": float(recall[i]),
                "f1": float(f1[i]),
                "support": int(support[i]),
            }
            for i, label in enumerate(labels)
        },
        "predicted_only": dict(sorted(Counter(p for p in predicted if p in set(extra)).items())),
        "confusion_matrix": {
            "labels": matrix_labels,
            "rows": _confusion_rows(truth, predicted, labels, matrix_labels),
        },
    }
    if confidences is not None:
        correct = [t == p for t, p in zip(truth, predicted, strict=True)]
        result["calibration"] = calibration(list(confidences), correct)
        if min_confidence is not None:
            result["triage"] = triage(list(confidences), correct, min_confidence)
    return result


def format_scores(target: str, figures: dict[str, Any]) -> list[str]:
    """One target's figures as text lines (training output, `support classify --csv`)."""
    lines = [
        f"{target}: accuracy {figures['accuracy']:.3f}, macro-F1 {figures['macro_f1']:.3f} "
        f"(over the {len(figures.get('per_class') or {})} true labels)"
    ]
    per_class = figures.get("per_class") or {}
    width = max([len("class"), *(len(label) for label in per_class)])
    lines.append(f"  {'class':<{width}}  precision  recall     F1  support")
    for label, row in per_class.items():
        lines.append(
            f"  {label:<{width}}  {row['precision']:>9.2f}  {row['recall']:>6.2f}"
            f"  {row.get('f1', 0.0):>5.2f}  {row['support']:>7}"
        )
    predicted_only = figures.get("predicted_only") or {}
    if predicted_only:
        lines.append(
            "  predicted but absent from the true labels: "
            + ", ".join(f"{label} {n}" for label, n in predicted_only.items())
        )
    matrix = figures.get("confusion_matrix") or {}
    labels = matrix.get("labels") or []
    if labels:
        cell = max(4, *(len(label) for label in labels))
        lines.append("  confusion matrix (rows: true label, columns: predicted)")
        lines.append("  " + " " * width + "".join(f" {label:>{cell}}" for label in labels))
        for label, row in zip(labels, matrix.get("rows") or [], strict=False):
            lines.append(f"  {label:<{width}}" + "".join(f" {n:>{cell}}" for n in row))
    reliability = figures.get("calibration")
    if reliability:
        lines.append("  confidence calibration (band: mails, mean confidence, accuracy):")
        for band in reliability["bands"]:
            lines.append(
                f"    {band['low']:.2f}-{band['high']:.2f}: {band['n']:5d}, "
                f"{band['confidence']:.3f}, {band['accuracy']:.3f}"
            )
        lines.append(f"    expected calibration error {reliability['ece']:.3f}")
    routing = figures.get("triage")
    if routing:
        line = (
            f"  triage at confidence {routing['threshold']}: {routing['share']:.1%} of mails"
            f" ({routing['routed']} routed"
        )
        if routing.get("routed_accuracy") is not None:
            line += f", accuracy there {routing['routed_accuracy']:.3f}"
        lines.append(line + ")")
    return lines
