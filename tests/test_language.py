"""Language identification: the model that ships with py3langid, deterministic, no downloads."""

from __future__ import annotations

from archive.language import (
    LANGUAGE_SAMPLE_CHARS,
    identify_language,
    language_labels,
    language_model,
)


def test_common_languages_are_identified_with_confidence() -> None:
    samples = {
        "en": "The council approved a small increase to the library's staffing budget.",
        "de": "Der Stadtrat hat eine kleine Erhöhung des Budgets der Bibliothek beschlossen.",
        "fr": "Le conseil a approuvé une petite hausse du budget de la bibliothèque.",
        "ru": "Совет одобрил небольшое увеличение бюджета библиотеки на персонал.",
        "zh": "市议会批准了图书馆人员预算的小幅增加。",
    }
    for code, text in samples.items():
        language = identify_language(text)
        assert language.code == code, (code, language)
        assert 0.5 < language.score <= 1


def test_scores_are_rounded_and_repeatable() -> None:
    text = "Keeping a sourdough starter alive in a heatwave is harder than it sounds."
    first, second = identify_language(text), identify_language(text)
    assert first == second
    assert round(first.score, 4) == first.score


def test_no_text_is_undetermined_and_long_texts_are_sampled() -> None:
    assert identify_language("").code == "und"
    assert identify_language("   ").score == 0.0
    long = "Das ist ein deutscher Satz über den Fluss. " * (LANGUAGE_SAMPLE_CHARS // 10)
    assert identify_language(long + "This English tail is never read.").code == "de"


def test_the_model_is_named_with_its_version_and_hash() -> None:
    name = language_model()
    assert name.startswith("fastText lid.176.ftz sha256:") and "fasttext-predict" in name
    assert {"en", "de", "fr"} <= set(language_labels())
