"""Pre-tokenization presets, digit splitting, and the Hugging Face regex translation."""

from __future__ import annotations

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st

from bbpe.pretokenize.patterns import PRESETS, QWEN, pretokenize, resolve_pattern, to_oniguruma, with_split_digits

DIGIT = regex.compile(r"(\p{N})")


def split_each_digit(pieces: list[str]) -> list[str]:
    """The definition of split_digits: pre-tokenize, then cut every digit out on its own."""
    return [part for piece in pieces for part in DIGIT.split(piece) if part]


text_strategy = st.text(alphabet=st.sampled_from(list("ab Z1234567890 \n\t.,'s-_!中٣")), max_size=60) | st.text(
    max_size=40
)


@pytest.mark.parametrize("name", sorted(PRESETS))
@settings(max_examples=300, deadline=None)
@given(text=text_strategy)
def test_split_digit_variant_equals_definition(name, text):
    base = PRESETS[name]
    assert pretokenize(text, with_split_digits(base)) == split_each_digit(pretokenize(text, base))


@pytest.mark.parametrize("name", sorted(PRESETS))
@settings(max_examples=200, deadline=None)
@given(text=st.text())
def test_pretokenization_loses_no_characters(name, text):
    for pattern in (PRESETS[name], with_split_digits(PRESETS[name])):
        assert "".join(pretokenize(text, pattern)) == text


def test_split_digits_examples(any_text):
    assert pretokenize("x 123", resolve_pattern("gpt2", split_digits=True)) == ["x", " ", "1", "2", "3"]
    assert pretokenize("x 1234", resolve_pattern("cl100k")) == ["x", " ", "123", "4"]
    assert resolve_pattern("cl100k", split_digits=True) != PRESETS["cl100k"]
    assert with_split_digits(QWEN) == QWEN
    sample = any_text[:300_000]
    for name in PRESETS:
        split = resolve_pattern(name, split_digits=True)
        assert pretokenize(sample, split) == split_each_digit(pretokenize(sample, PRESETS[name]))


def test_custom_regex_and_errors():
    assert resolve_pattern(r"\w+|\s+|[^\w\s]+") == r"\w+|\s+|[^\w\s]+"
    assert resolve_pattern(r"\p{L}+|\p{N}|\s+|.", split_digits=True) == r"\p{L}+|\p{N}|\s+|."
    with pytest.raises(ValueError, match="invalid regex"):
        resolve_pattern("(")
    with pytest.raises(ValueError, match="split-digits"):
        resolve_pattern(r"\w+|\W", split_digits=True)
    with pytest.raises(ValueError, match="empty"):
        resolve_pattern("")


def test_oniguruma_translation_keeps_possessive_marks_and_makes_intervals_atomic():
    # Oniguruma has a++, b?+, c*+ but reads d{1,3}+ as (d{1,3})+ (issue 9).
    assert to_oniguruma(r"a++b?+c*+d{1,3}+\+\p{L}+") == r"a++b?+c*+(?>d{1,3})\+\p{L}+"
    # and its $ is the end of a line: cl100k's \s++$ (end of the text) becomes \s++\z.
    assert to_oniguruma(PRESETS["cl100k"]) == PRESETS["cl100k"].replace("{1,3}+", "{1,3}").replace(
        r"\p{N}{1,3}", r"(?>\p{N}{1,3})"
    ).replace("$", r"\z")


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_oniguruma_form_pretokenizes_like_the_original(name, any_text):
    sample = any_text[:300_000]
    for pattern in (PRESETS[name], with_split_digits(PRESETS[name])):
        assert pretokenize(sample, to_oniguruma(pattern)) == pretokenize(sample, pattern)


# -- validation probes every ASCII character, script and general category (issue 21) ----------------------
@pytest.fixture(scope="module")
def every_character() -> str:
    return "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)


def test_every_built_in_pattern_keeps_all_the_rules():
    from bbpe.pretokenize.patterns import BUILT_IN, STAGE2, rule_broken

    assert {*PRESETS.values(), with_split_digits(PRESETS["cl100k"]), STAGE2} <= BUILT_IN
    for pattern in BUILT_IN:  # validated here, not at every use
        assert rule_broken(pattern) is None, pattern


@pytest.mark.parametrize("char", [chr(c) for c in range(128)])
def test_a_pattern_that_drops_one_ascii_character_is_refused(char):
    from bbpe.pretokenize.patterns import validate_pattern

    with pytest.raises(ValueError, match=rf"drops text: .*U\+{ord(char):04X}\)"):
        validate_pattern(rf"[^{regex.escape(char, special_only=False)}]+")  # e.g. [^q]+: every q is dropped


def _names_with_characters(every_character: str, names: list[str], key: str) -> list[str]:
    return [name for name in names if regex.search(rf"\p{{{key}={name}}}", every_character)]


def test_a_pattern_that_drops_one_script_or_category_is_refused(every_character):
    from bbpe.pretokenize.patterns import validate_pattern
    from bbpe.pretokenize.probe import GENERAL_CATEGORIES, script_names

    scripts = _names_with_characters(every_character, script_names(), "sc")
    categories = _names_with_characters(every_character, list(GENERAL_CATEGORIES), "gc")
    assert len(scripts) > 150 and "MANDAIC" in scripts  # Mandaic shares a 128-code-point block with two scripts
    assert len(categories) == 29  # every category but Cs (surrogates are no text)
    for key, names in (("sc", scripts), ("gc", categories)):
        for name in names:
            with pytest.raises(ValueError, match="drops text"):
                validate_pattern(rf"[^\p{{{key}={name}}}]+")


def test_a_damaged_probe_cache_is_rebuilt(tmp_path, monkeypatch):
    from bbpe.pretokenize import probe

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    probe.probe_characters.cache_clear()
    first = probe.probe_characters()
    (cached,) = (tmp_path / "bbpe").glob("probe-characters-*.npz")
    cached.write_bytes(cached.read_bytes()[:50])
    probe.probe_characters.cache_clear()
    assert probe.probe_characters() == first
    probe.probe_characters.cache_clear()
    assert set(map(chr, range(128))) <= set(first) and len(first) > 700


def test_without_regex_s_script_table_every_category_is_still_probed(monkeypatch, caplog):
    from regex import _regex_core

    from bbpe.pretokenize import probe

    without_scripts = {name: value for name, value in _regex_core.PROPERTIES.items() if name != "SCRIPT"}
    monkeypatch.setattr(_regex_core, "PROPERTIES", without_scripts)
    assert probe.script_names() == [] and "per category only" in caplog.text
    chars = "".join(map(chr, probe.generate().tolist()))
    assert set(map(chr, range(128))) <= set(chars)
    for category in probe.GENERAL_CATEGORIES:
        assert regex.search(rf"\p{{gc={category}}}", chars), category
