"""Secret rules of issue 16: the corpus (data) through ``redact_text``, a property-based test
embedding generated secrets of every supported kind in generated text, and ``redact()`` of
header tuples, header_name/header_value entries and keys that scrub alike.

No database here: the stored/logged path is covered by tests/unit/probes/test_secret_corpus.py.
"""

from __future__ import annotations

import json
import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sessionerror.redaction import REDACTED, redact, redact_text

CORPUS: dict[str, Any] = json.loads(
    (Path(__file__).parents[1] / "probes" / "secret_corpus.json").read_text(encoding="utf-8")
)


@pytest.mark.parametrize(
    ("text", "secret"),
    [(case["text"], case["secret"]) for case in CORPUS["secrets"]],
    ids=[case["kind"] for case in CORPUS["secrets"]],
)
def test_corpus_secret_does_not_survive(text: str, secret: str) -> None:
    assert secret in text
    scrubbed = redact_text(text)
    assert secret not in scrubbed, scrubbed
    assert redact_text(scrubbed) == scrubbed  # scrubbing twice changes nothing more


@pytest.mark.parametrize("text", CORPUS["ordinary"])
def test_corpus_ordinary_text_is_unchanged(text: str) -> None:
    assert redact_text(text) == text


def test_corpus_covers_every_required_kind() -> None:
    """The issue's list of forms that got out: each has at least one case in the corpus."""
    kinds = {case["kind"] for case in CORPUS["secrets"]}
    required = {
        "url_password_squote_tail", "url_password_dquote_tail", "url_password_backtick_tail",
        "url_password_lt_tail", "url_password_gt_tail", "cookie_second", "set_cookie_later",
        "digest_response", "digest_nonce", "escaped_quote_tail", "aws_access_key_id",
        "aws_secret_after_id", "github_pat_classic", "github_oauth", "github_fine_grained",
        "slack_bot", "google_api_key", "stripe_live", "azure_account_key", "azure_sas",
        "xml_password", "cli_flag_password", "github_in_url_user", "header_tuple_3",
        "header_name_value_text",
    }  # fmt: skip
    assert required <= kinds, required - kinds


# -- property-based: generated secrets of every kind in generated text -------------------------

_ALNUM = string.ascii_letters + string.digits
_B32 = string.ascii_uppercase + "234567"


def _run(alphabet: str, size: int) -> st.SearchStrategy[str]:
    """``size`` characters of ``alphabet`` holding a digit and a letter (never a plain word)."""
    return st.text(alphabet, min_size=size, max_size=size).filter(
        lambda s: any(c.isdigit() for c in s) and any(c.isalpha() for c in s)
    )


def _framed(template: str, secret: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, str]]:
    return secret.map(lambda value: (template.format(value), value))


_PASSWORD = _run(_ALNUM + "'\"`<>/@!$%^*()", 12)
_VALUE = _run(_ALNUM + "-_.+/", 14)
#: (kind, strategy of (text holding the secret, the secret)) for every supported kind.
SECRET_KINDS: dict[str, st.SearchStrategy[tuple[str, str]]] = {
    "url_password": st.tuples(st.sampled_from(["postgresql", "redis", "amqp", "https"]), _PASSWORD)
    .filter(lambda pair: "@" not in pair[1][-1:] and pair[1][0] != "@")
    .map(lambda pair: (f"{pair[0]}://app:{pair[1]}@db.internal:5432/app", pair[1])),
    "assignment": st.tuples(
        st.sampled_from(["password", "api_key", "clientSecret", "AWS_SECRET_ACCESS_KEY", "token"]),
        st.sampled_from(["=", ": ", '": "', "='", '="']),
        _VALUE,
    ).map(
        lambda t: (f"{t[0]}{t[1]}{t[2]}{t[1][-1] if t[1][-1] in chr(34) + chr(39) else ''}", t[2])
    ),
    "escaped_quote": _framed('password: "x\\"{} tail"', _VALUE),
    "bearer": _framed("Authorization: Bearer {}", _VALUE),
    "cookie": _framed("Cookie: theme=dark; sessionid={}; lang=en", _run(_ALNUM, 16)),
    "digest": _framed('Authorization: Digest username="bob", response="{}", uri="/x"', _VALUE),
    "xml": _framed("<password>{}</password>", _VALUE),
    "cli_flag": _framed("tool --password {} --verbose", _VALUE),
    "aws_key_id": _framed("AKIA{}", _run(_B32, 16)).map(lambda p: (p[0], p[0])),
    "github": st.tuples(st.sampled_from(["ghp_", "gho_", "ghs_"]), _run(_ALNUM, 36)).map(
        lambda t: (t[0] + t[1], t[0] + t[1])
    ),
    "github_url_user": _framed("https://ghp_{}@github.com/org/repo.git", _run(_ALNUM, 36)),
    "slack": _framed("xoxb-1234567890-1234567890123-{}", _run(_ALNUM, 24)),
    "google": _framed("AIza{}", _run(_ALNUM + "_-", 35)),
    "stripe": _framed("sk_live_{}", _run(_ALNUM, 24)),
    "header_pair": _framed("('X-Api-Key', '{}')", _VALUE),
}

_WORDS = [
    *("password", "reset", "failed", "the", "token", "expired", "key", "column", "row"),
    *("header", "upload", "retry", "basic", "plan", "secret", "rotation", "was", "asked"),
    *("for", "cookie", "banner", "digest", "mode", "bearer", "of", "news", "value", "name"),
]
_SEPARATORS = [" ", "\n", ", ", ". ", "; ", " (", ") ", " - "]
_ORDINARY_EXTRAS = [
    "deployed 3f786850e387550fdab836ed7e6dc881de23001b",
    "request 123e4567-e89b-12d3-a456-426614174000 failed",
    "see https://jira.example.test/browse/OPS-12?focus=1",
    "token_type=bearer",
    "mail bob@example.test",
]
_PROSE = st.lists(st.sampled_from(_WORDS), max_size=8).map(" ".join)
_ORDINARY = st.tuples(_PROSE, st.sampled_from(["", *_ORDINARY_EXTRAS]), _PROSE).map(
    lambda t: " ".join(part for part in t if part)
)


#: How the text reaches the kit: as is, as a JSON string inside JSON (quotes escaped), or in a
#: Python repr of a log record.
_WRAPPERS = {
    "plain": lambda text: text,
    "json": lambda text: json.dumps({"detail": text}),
    "repr": lambda text: repr({"msg": text, "level": "error"}),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(
    kind=st.sampled_from(sorted(SECRET_KINDS)),
    wrapper=st.sampled_from(sorted(_WRAPPERS)),
    data=st.data(),
    before=_ORDINARY,
    after=_ORDINARY,
    left=st.sampled_from(_SEPARATORS),
    right=st.sampled_from(_SEPARATORS),
)
def test_generated_secret_never_survives(
    kind: str, wrapper: str, data: st.DataObject, before: str, after: str, left: str, right: str
) -> None:
    text, secret = data.draw(SECRET_KINDS[kind], label=kind)
    embedded = _WRAPPERS[wrapper](f"{before}{left}{text}{right}{after}")
    forms = {secret, json.dumps(secret)[1:-1], repr(secret)[1:-1]}  # as the wrapper escapes it
    scrubbed = redact_text(embedded)
    assert not any(form in scrubbed for form in forms), (kind, embedded, scrubbed)


@settings(max_examples=200, deadline=None)
@given(_ORDINARY, st.sampled_from(_SEPARATORS), _ORDINARY)
def test_generated_ordinary_text_is_unchanged(first: str, separator: str, second: str) -> None:
    text = f"{first}{separator}{second}"
    assert redact_text(text) == text


@pytest.mark.parametrize("kind", sorted(SECRET_KINDS))
def test_every_generated_kind_is_covered(kind: str) -> None:
    """One example of each kind, deterministic (a Hypothesis run may skip a kind)."""

    @settings(max_examples=5, deadline=None, suppress_health_check=list(HealthCheck))
    @given(SECRET_KINDS[kind])
    def check(pair: tuple[str, str]) -> None:
        text, secret = pair
        assert secret not in redact_text(f"failed: {text} (retrying)")

    check()


# -- redact(): structures ----------------------------------------------------------------------


def test_keys_that_scrub_alike_stay_distinct() -> None:
    details = {
        "postgresql://app:pw-one-1@db/app": "first",
        "postgresql://app:pw-two-2@db/app": "second",
        "postgresql://app:***@db/app": "third",
    }
    scrubbed = redact(details)
    assert sorted(scrubbed.values()) == ["first", "second", "third"]
    assert len(scrubbed) == 3
    assert "pw-one-1" not in json.dumps(scrubbed) and "pw-two-2" not in json.dumps(scrubbed)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (["X-Api-Key", "xak-1234", True], ["X-Api-Key", REDACTED, True]),
        (("Authorization", "Bearer abc123", "sensitive"), ["Authorization", REDACTED, "sensitive"]),
        (["header", "Cookie", "sid=abc123"], ["header", "Cookie", REDACTED]),
        (["Authorization", "Cookie"], ["Authorization", "Cookie"]),  # a list of names
        (["Accept", "application/json", True], ["Accept", "application/json", True]),
    ],
)
def test_header_tuples(entry: list[Any] | tuple[Any, ...], expected: list[Any]) -> None:
    assert redact({"headers": [entry]}) == {"headers": [expected]}


@pytest.mark.parametrize("labels", [("header_name", "header_value"), ("headerName", "headerValue")])
def test_header_name_value_entries(labels: tuple[str, str]) -> None:
    name, value = labels
    entries = [{name: "X-Api-Key", value: "hv-998877"}, {name: "Accept", value: "text/html"}]
    assert redact({"h": entries}) == {
        "h": [{name: "X-Api-Key", value: REDACTED}, {name: "Accept", value: "text/html"}]
    }
