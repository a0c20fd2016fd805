"""A learned re-check of a mail's offers: does this article answer this mail, or only its topic?

The mails' formula (faq.matching.mail_confidence) reads how close a mail is to an article; a
near-topic mail ("Can I pick the courier?" beside the change-address article) is as close as
one the article answers. A logistic regression over the bundled e5 model's own vectors reads
more: the elementwise product and absolute difference of the mail's line nearest the article
and the article's nearest row (and its centroid), with the search's scalar scores. An offered
hit it gives less than the file's cut is not offered.

Trained by bench/offer_pair_classifier.py (--write) on the committed tuning mails; its weights
are a small .npz beside the other search data (no pickle: read with allow_pickle=False). A
missing or unreadable file, or one made for another model, means no re-check (today's
decision) and a log line, never a failed mail.
"""

from __future__ import annotations

import functools
import logging
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

WEIGHTS_FILE = Path(__file__).resolve().parent / "search" / "data" / "offer_pairs.npz"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class PairCheck:
    """The trained re-check: standardise, then a logistic regression; offer from `cut`."""

    model_id: str
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    cut: float

    def chance(self, features: np.ndarray) -> float:
        """How probably the article answers the mail (0-1)."""
        logit = float(((features - self.mean) / self.scale) @ self.coef) + self.intercept
        return 1.0 / (1.0 + float(np.exp(-max(-50.0, min(50.0, logit)))))


def pair_features(
    queries: np.ndarray,
    rows: np.ndarray,
    centroid: np.ndarray,
    scalars: tuple[float, float, float, float, int | None, int | None, str],
    position: int,
) -> np.ndarray:
    """One (mail, article) pair: the mail's line nearest the article (`queries`, one
    normalised row a line) and the article's row nearest it (`rows`), their product and
    absolute difference, the same with the article's `centroid`, and the hit's scalars
    (cosine, similarity, standout, word cosine, word-search rank, model rank, language) and
    its `position` in the ranking."""
    cosine, similarity, standout, word_cosine, lexical, semantic, language = scalars
    spread = queries @ rows.T  # lines x rows
    line, row = np.unravel_index(int(np.argmax(spread)), spread.shape)
    query, best = queries[line], rows[row]
    extra = np.array(
        [
            cosine,
            similarity,
            standout,
            word_cosine,
            float(lexical == 1),
            float((lexical or 99) <= 3),
            float(semantic == 1),
            float(language == "zh"),
            float(position == 0),
            float(spread.max()),
            float((queries @ centroid).max()),
        ],
        np.float32,
    )
    return np.concatenate(
        [query * best, np.abs(query - best), query * centroid, np.abs(query - centroid), extra]
    ).astype(np.float32)


def write_check(path: Path, check: PairCheck) -> None:
    """Save a trained check (aside, then renamed: a reader never sees half a file)."""
    aside = path.with_suffix(".tmp.npz")
    np.savez(
        aside,
        format_version=np.array(FORMAT_VERSION),
        model_id=np.array(check.model_id),
        mean=check.mean.astype(np.float32),
        scale=check.scale.astype(np.float32),
        coef=check.coef.astype(np.float32),
        intercept=np.array(check.intercept, np.float64),
        cut=np.array(check.cut, np.float64),
    )
    aside.replace(path)


def read_check(path: Path) -> PairCheck | None:
    """The check in `path` (None: missing, unreadable or of another format)."""
    try:
        with path.open("rb") as handle, np.load(handle, allow_pickle=False) as saved:
            if int(saved["format_version"]) != FORMAT_VERSION:
                log.warning(
                    "offer check %s: format %s, not %s",
                    path,
                    saved["format_version"],
                    FORMAT_VERSION,
                )
                return None
            return PairCheck(
                str(saved["model_id"]),
                saved["mean"].astype(np.float32),
                saved["scale"].astype(np.float32),
                saved["coef"].astype(np.float32),
                float(saved["intercept"]),
                float(saved["cut"]),
            )
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
        log.warning("offer check %s not loaded (%s): offers without it", path, error)
        return None


@functools.cache
def bundled_check() -> PairCheck | None:
    """The check shipped with the package, read once per process."""
    return read_check(WEIGHTS_FILE)
