"""Every limit and every lookup of the naming modules (names.py, uids.py, contract/model.py), each held
at its edge: the value at a limit and one past it, each entry of a table found by each key it is used
with. The tables below are derived from the modules (their constants and tables), so a new limit,
character or signal is held without a new test; where a module states what a constant stands for
(a Grafana column, the Collector's unit table) the test compares it with that statement."""

from __future__ import annotations

import re
import unicodedata

import pytest

from dashboards_as_code import names
from dashboards_as_code.contract import model
from dashboards_as_code.contract.markdown import contract_markdown
from dashboards_as_code.contract.model import Instrument, prometheus_base_name, prometheus_label
from dashboards_as_code.names import (
    BIDI_CONTROLS,
    LINE_SEPARATORS,
    describe_character,
    forbidden_character,
    title_problem,
)
from dashboards_as_code.uids import (
    GRAFANA_UID,
    UID_RULE,
    UnsafeUidError,
    path_uid,
    uid_problem,
    url_uid_problem,
)
from telemetry.contract import CONTRACT

# names.py ------------------------------------------------------------------------------------------

TITLE_LIMITS = {
    name: value for name, value in vars(names).items() if name.endswith("_MAX") and name != "SHOWN_MAX"
}
"""Every title or name limit names.py defines (SHOWN_MAX is a message length, held in test_names.py)."""

DOCUMENTED_LIMITS = {
    "DASHBOARD_TITLE_MAX": 189,  # dashboard.title VARCHAR(189), "Update dashboard title length"
    "FOLDER_TITLE_MAX": 189,  # folder.title VARCHAR(189), "Update folder title length"
    "DATASOURCE_NAME_MAX": 190,  # data_source.name VARCHAR(190), "Update data_source table charset"
    "PANEL_TITLE_MAX": 1000,  # ours: "no header shows anywhere near 1000 characters"
}
"""What names.py's docstring says each limit is (Grafana's migrations, or our own choice)."""


def test_each_title_limit_is_the_column_its_docstring_names() -> None:
    """A limit is a copy of a Grafana database column: 189 for titles, 190 for datasource names.

    One too small refuses a title Grafana stores; one too large lets a push fail on MySQL or PostgreSQL
    ("Data too long") after the build said the definition was fine. Every limit of the module must be
    listed here with its source, so a new one is compared with what it claims to copy."""
    assert TITLE_LIMITS == DOCUMENTED_LIMITS
    for name in DOCUMENTED_LIMITS:
        assert f"VARCHAR({TITLE_LIMITS[name]})" in (names.__doc__ or "") or name == "PANEL_TITLE_MAX"


@pytest.mark.parametrize("limit", sorted(TITLE_LIMITS))
@pytest.mark.parametrize("text", ["x", "é", "錯"], ids=["ascii", "latin1", "cjk"])
def test_a_title_of_exactly_the_limit_is_taken_and_one_more_character_is_refused(
    limit: str, text: str
) -> None:
    """`len(text) > most`: at the limit a title is accepted, one character past it refused with the
    count and the limit in the message; characters are counted, not bytes (utf8mb4 VARCHAR)."""
    most = TITLE_LIMITS[limit]
    assert title_problem(text * most, most, "the column") is None
    assert title_problem(text * (most - 1), most, "the column") is None
    over = title_problem(text * (most + 1), most, "the column")
    assert over is not None and over.endswith(f"is {most + 1} characters; the column holds at most {most}"), (
        over
    )


_RULES = (names.__doc__ or "").split("Lengths are")[0]
"""The part of names.py's docstring that lists what a one-line label may not hold."""


def _documented_codes(text: str) -> set[int]:
    """Every code point the text lists, as `U+0000` or a range `U+0000`-`U+001F`."""
    codes: set[int] = set()
    for first, last in re.findall(r"`U\+([0-9A-F]{4})`(?:-`U\+([0-9A-F]{4})`)?", text):
        codes |= set(range(int(first, 16), int(last or first, 16) + 1))
    return codes


FORBIDDEN = _documented_codes(_RULES)
"""C0, DEL, C1, the line and paragraph separators and the bidi controls, as the docstring lists them."""


def test_the_refused_characters_are_the_documented_ones() -> None:
    """The docstring is the specification: the module refuses exactly what it lists, nothing more."""
    assert {0x00, 0x1F, 0x7F, 0x80, 0x9F, 0x2028, 0x202E, 0x2069, 0x061C} <= FORBIDDEN
    refused = {code for code in range(0x3000) if forbidden_character(chr(code)) is not None}
    assert refused == FORBIDDEN, sorted(refused ^ FORBIDDEN)


def _runs(codes: set[int]) -> list[tuple[int, int]]:
    """The contiguous runs of `codes`, as (first, last)."""
    ordered = sorted(codes)
    runs: list[tuple[int, int]] = []
    for code in ordered:
        if runs and runs[-1][1] == code - 1:
            runs[-1] = (runs[-1][0], code)
        else:
            runs.append((code, code))
    return runs


NEIGHBOURS = sorted(
    {code for first, last in _runs(FORBIDDEN) for code in (first - 1, last + 1) if code >= 0} - FORBIDDEN
)
"""The characters just outside each refused run (U+0020, U+007E, U+00A0, U+202F, U+2065, U+206A...):
printable, so a title may hold them."""


@pytest.mark.parametrize("code", NEIGHBOURS, ids=lambda code: f"U+{code:04X}")
def test_the_characters_just_outside_each_refused_range_are_allowed(code: int) -> None:
    """Each refused range ends where the docstring says: its neighbours (a space, `~`, a no-break
    space, NARROW NO-BREAK SPACE after the overrides...) are ordinary characters of a title, so a
    range widened by one (`<=` for `<`) would refuse titles Grafana and every terminal show fine."""
    title = f"Error{chr(code)}rate"
    assert forbidden_character(title) is None
    assert title_problem(title, 189, "x") is None


@pytest.mark.parametrize("first_last", _runs(FORBIDDEN), ids=lambda r: f"U+{r[0]:04X}-U+{r[1]:04X}")
def test_both_ends_of_each_refused_range_are_refused(first_last: tuple[int, int]) -> None:
    """The first and last code point of each refused run (U+0000/U+001F, U+007F/U+009F, U+2028/U+202E...)."""
    for code in first_last:
        assert forbidden_character(f"ok{chr(code)}") == chr(code), f"U+{code:04X}"


def _kind(code: int) -> str:
    if code in BIDI_CONTROLS:
        return "a bidirectional control, which reorders the text shown after it"
    if code in LINE_SEPARATORS:
        return "a line break"
    return "a control character"


@pytest.mark.parametrize("code", sorted(FORBIDDEN), ids=lambda code: f"U+{code:04X}")
def test_each_refused_character_is_described_by_its_own_kind(code: int) -> None:
    """describe_character looks the kind up by set (bidi, line separator, else control): the message
    must say why this character is refused (a U+2028 is "a line break", not "a control character")."""
    described = describe_character(chr(code))
    assert described.startswith(f"U+{code:04X} (") and described.endswith(f"{_kind(code)})"), described


SHORT_NAMES = {0x00: "NULL", 0x09: "TAB", 0x0A: "LINE FEED", 0x0D: "CARRIAGE RETURN", 0x7F: "DELETE"}
"""The controls a title most often carries by accident (a NUL, a pasted tab or line break, a DEL),
which unicodedata leaves unnamed: each must be called by its Unicode name alias in a message."""


@pytest.mark.parametrize(
    "code", sorted(SHORT_NAMES.keys() | names._CONTROL_NAMES.keys()), ids=lambda c: f"U+{c:04X}"
)
def test_each_control_character_with_a_short_name_is_called_by_it(code: int) -> None:
    """The module's table of names is found by code point; each entry is the character's Unicode
    name alias (unicodedata.lookup knows the aliases), and the message uses it."""
    name = SHORT_NAMES.get(code) or names._CONTROL_NAMES[code]
    assert unicodedata.lookup(name) == chr(code)
    assert describe_character(chr(code)) == f"U+{code:04X} ({name}, a control character)"


def test_a_control_character_without_a_name_is_described_without_one() -> None:
    """`name + ', ' if name else ''`: no stray comma or empty name before the kind."""
    assert describe_character("\x85") == "U+0085 (a control character)"
    assert describe_character("\x01") == "U+0001 (a control character)"


def test_a_title_key_folds_case_as_the_collation_does_and_drops_trailing_spaces_only() -> None:
    """title_key is the key of Grafana's unique title index (utf8mb4_unicode_ci): case folded fully
    (`ß` is `ss`, as the collation's expansion has it, which `lower()` would miss), trailing spaces
    dropped, leading ones kept."""
    assert names.title_key("Straße ") == names.title_key("STRASSE") == "strasse"
    assert names.title_key("  A  ") == "  a"


# uids.py -------------------------------------------------------------------------------------------

_LENGTHS = re.search(r"\{(\d+),(\d+)\}", GRAFANA_UID.pattern)
assert _LENGTHS is not None
UID_MIN, UID_MAX = int(_LENGTHS[1]), int(_LENGTHS[2])
"""The uid lengths Grafana accepts, read from the module's own pattern (1 to 40)."""


def test_a_uid_of_the_longest_length_is_taken_and_one_more_is_refused_as_too_long() -> None:
    """Grafana refuses "uid too long, max 40 characters": at 40 a uid is accepted for a request path
    and for creation; at 41 the message says it is too long (not that it holds a bad character),
    with the length, the maximum and the rule."""
    assert (UID_MIN, UID_MAX) == (1, 40)
    assert f"1 to {UID_MAX} letters" in UID_RULE
    longest = "a" * UID_MAX
    assert url_uid_problem(longest) is None and uid_problem(longest) is None and path_uid(longest) == longest
    over = "a" * (UID_MAX + 1)
    expected = f"uid {over!r} is {UID_MAX + 1} characters; Grafana allows at most {UID_MAX} ({UID_RULE})"
    assert url_uid_problem(over) == expected
    assert uid_problem(over) == expected
    with pytest.raises(UnsafeUidError, match=re.escape(f"{expected}; not sent to Grafana")):
        path_uid(over)


def test_the_shortest_uid_is_taken_and_an_empty_one_is_refused_as_empty() -> None:
    """One character is a uid; the empty string is refused as empty (not as a bad character)."""
    shortest = "a" * UID_MIN
    assert url_uid_problem(shortest) is None and uid_problem(shortest) is None
    assert url_uid_problem("") == f"the uid is empty ({UID_RULE})"


# contract/model.py ---------------------------------------------------------------------------------

COLLECTOR_UNIT_WORDS = {
    "d": "days", "h": "hours", "min": "minutes", "s": "seconds", "ms": "milliseconds",
    "us": "microseconds", "ns": "nanoseconds", "By": "bytes", "KiBy": "kibibytes", "MiBy": "mebibytes",
    "GiBy": "gibibytes", "TiBy": "tebibytes", "KBy": "kilobytes", "MBy": "megabytes", "GBy": "gigabytes",
    "TBy": "terabytes", "m": "meters", "V": "volts", "A": "amperes", "J": "joules", "W": "watts",
    "g": "grams", "Cel": "celsius", "Hz": "hertz", "%": "percent", "1": "", "": "",
}  # fmt: skip
"""otlptranslator's `unitMap` (github.com/prometheus/otlptranslator), the reference the module copies."""
COLLECTOR_PER_UNIT_WORDS = {
    "s": "second",
    "m": "minute",
    "h": "hour",
    "d": "day",
    "w": "week",
    "mo": "month",
    "y": "year",
}
"""otlptranslator's `perUnitMap`."""


@pytest.mark.parametrize("unit", sorted(model._UNIT_SUFFIX))
def test_each_unit_becomes_the_collectors_suffix(unit: str) -> None:
    """Each unit of the module's table, alone and before `/s`, gives the word the Collector appends
    (and a unit the reference does not know is not in the table)."""
    assert unit in COLLECTOR_UNIT_WORDS, f"{unit!r} is not a unit otlptranslator knows"
    word = COLLECTOR_UNIT_WORDS[unit]
    alone = prometheus_base_name("queue.items", unit, Instrument.UP_DOWN_COUNTER)
    assert alone == "_".join(filter(None, ["queue_items", word]))
    per_second = prometheus_base_name("queue.items", f"{unit}/s", Instrument.UP_DOWN_COUNTER)
    assert per_second == "_".join(filter(None, ["queue_items", word, "per_second"]))


@pytest.mark.parametrize("per", sorted(model._PER_UNIT_SUFFIX))
def test_each_per_unit_becomes_the_collectors_per_word(per: str) -> None:
    """The part after `/` is looked up in the per-unit table, not the unit table (`By/m` is bytes per
    minute, while `m` alone is meters)."""
    assert per in COLLECTOR_PER_UNIT_WORDS
    name = prometheus_base_name("transfer", f"By/{per}", Instrument.GAUGE)
    assert name == f"transfer_bytes_per_{COLLECTOR_PER_UNIT_WORDS[per]}"


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("9", "key_9"),
        ("a9", "a9"),
        ("_", "key_"),
        ("_a", "key_a"),
        ("__a", "__a"),
        ("a_", "a_"),
        (".a", "key_a"),
    ],
)
def test_the_first_character_of_a_label_decides_its_prefix(attribute: str, expected: str) -> None:
    """`label[:1].isdigit()` and a single leading `_` (not `__`): the prefix rules at their edges."""
    assert prometheus_label(attribute) == expected


@pytest.mark.parametrize("signal", CONTRACT.metrics, ids=lambda s: s.key)
def test_every_series_of_every_signal_finds_that_signal(signal: model.MetricSignal) -> None:
    """metric_for_series is the inverse of series_names: each stored series (a histogram's three
    parts too) leads back to its signal, which is how a query's series is checked against the contract."""
    for series in signal.series_names:
        assert CONTRACT.metric_for_series(series) is signal, series
        if series.endswith(("_bucket", "_sum", "_count")):
            assert signal.series(series.rsplit("_", 1)[1]) == series
        else:
            assert signal.series() == series


@pytest.mark.parametrize("signal", CONTRACT.logs, ids=lambda s: s.key)
def test_every_log_signal_is_found_by_its_key(signal: model.LogSignal) -> None:
    assert CONTRACT.log(signal.key) is signal


@pytest.mark.parametrize("entry", CONTRACT.label_values, ids=lambda e: e.label)
def test_every_described_label_finds_its_values(entry: model.LabelValues) -> None:
    """values_of is found by the Prometheus label; a label the contract does not describe gives None."""
    assert CONTRACT.values_of(entry.label) is entry
    assert CONTRACT.values_of(f"{entry.label}_not") is None


@pytest.mark.parametrize(
    ("series", "extra", "taken"),
    [(1, 0, True), (1, 1, True), (0, 0, False), (2, -1, False), (2, 2, True), (2, 3, False)],
)
def test_a_tenant_budget_at_each_bound_is_taken_and_one_past_it_refused(
    series: int, extra: int, taken: bool
) -> None:
    """series >= 1 and 0 <= per_extra_instance <= series, each bound from both sides."""
    if taken:
        model.TenantBudget(series=series, per_extra_instance=extra, dimensions="-")
    else:
        with pytest.raises(ValueError, match="a tenant budget needs series >= 1"):
            model.TenantBudget(series=series, per_extra_instance=extra, dimensions="-")


@pytest.mark.parametrize("signal", CONTRACT.metrics, ids=lambda s: s.key)
def test_a_series_part_is_required_exactly_for_a_histogram(signal: model.MetricSignal) -> None:
    """series(part): a histogram has no series without a part, any other type none with one. The
    lookup is by the signal's Prometheus type, so each signal of the contract is tried both ways."""
    if signal.prom_type is model.PromType.HISTOGRAM:
        with pytest.raises(
            model.ContractError, match="is a histogram: choose the bucket, sum or count series"
        ):
            signal.series()
        with pytest.raises(model.ContractError, match="is a histogram"):
            signal.series("total")
    else:
        with pytest.raises(
            model.ContractError, match=f"is a {signal.prom_type.value}: it has no 'sum' series"
        ):
            signal.series("sum")
        with pytest.raises(model.ContractError, match="it has no '' series"):
            signal.series("")  # an empty part is a part given (a caller's bug), not the plain series


@pytest.mark.parametrize("signal", CONTRACT.metrics, ids=lambda s: s.key)
def test_only_a_tenant_scoped_signal_has_a_cardinality_limit(signal: model.MetricSignal) -> None:
    """`tenant_budget is None`: a signal without a budget has no limit (an error, not 0)."""
    if signal.tenant_budget is None:
        with pytest.raises(model.ContractError, match="is not tenant-scoped: it has no cardinality budget"):
            CONTRACT.cardinality_limit(signal)
    else:
        assert CONTRACT.cardinality_limit(signal) == (
            signal.tenant_budget.series * CONTRACT.tenants_per_instance * CONTRACT.limit_headroom
        )


def _page(contract: model.TelemetryContract) -> str:
    return contract_markdown(contract, title="T", source="telemetry/contract.py")


@pytest.mark.parametrize("signal", CONTRACT.metrics, ids=lambda s: s.key)
def test_the_contract_page_writes_an_empty_unit_and_empty_lists_as_such(signal: model.MetricSignal) -> None:
    """An empty unit is shown `(none)` and an empty attribute or exemplar list `-`: the reader sees
    the field was left empty on purpose, not a blank cell (the contract has signals of each kind)."""
    row = next(line for line in _page(CONTRACT).splitlines() if line.startswith(f"| `{signal.otel_name}` |"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[1] == ("`(none)`" if signal.unit == "" else f"`{signal.unit}`")
    assert cells[4] == (", ".join(f"`{a}`" for a in signal.attributes) if signal.attributes else "-")
    assert cells[6] == (
        ", ".join(f"`{e}`" for e in signal.exemplar_labels) if signal.exemplar_labels else "-"
    )


def test_a_label_the_contract_does_not_describe_has_no_values_on_the_page() -> None:
    """`values_of(label) is None` gives `-` in the values column; with the values listed the row says
    them. (The TikTickets contract describes every label, so the empty table is tried here.)"""

    def label_rows(page: str) -> dict[str, str]:
        return {
            line.split("|")[1].strip(): line
            for line in page.splitlines()
            if line.startswith("| `") and line.count("|") == 5
        }

    undescribed = label_rows(_page(CONTRACT.model_copy(update={"label_values": ()})))
    described = label_rows(_page(CONTRACT))
    assert undescribed.keys() == described.keys() and len(described) >= len(CONTRACT.label_values)
    assert all(line.endswith("| - |") for line in undescribed.values()), undescribed
    for entry in CONTRACT.label_values:
        assert f'`{entry.label}="{entry.values[0]}"`' in described[f"`{entry.label}`"]


def test_a_contract_without_tenant_budgets_has_no_cardinality_section() -> None:
    """`if not budgeted`: with no tenant-scoped signal the page has no empty budget table."""
    unbudgeted = tuple(m.model_copy(update={"tenant_budget": None}) for m in CONTRACT.metrics)
    assert "## Cardinality" in _page(CONTRACT)
    assert "## Cardinality" not in _page(CONTRACT.model_copy(update={"metrics": unbudgeted}))


LOKI_OTLP_DEFAULT_INDEX_ATTRIBUTES = {
    "service.name", "service.namespace", "service.instance.id", "deployment.environment",
    "deployment.environment.name", "cloud.region", "cloud.availability_zone", "k8s.cluster.name",
    "k8s.namespace.name", "k8s.pod.name", "k8s.container.name", "container.name", "k8s.replicaset.name",
    "k8s.deployment.name", "k8s.statefulset.name", "k8s.daemonset.name", "k8s.cronjob.name", "k8s.job.name",
}  # fmt: skip
"""Loki 3's `-distributor.otlp.default_resource_attributes_as_index_labels`."""
STACK_INDEX_LABELS = {
    "service_name", "service_namespace", "service_instance_id", "deployment_environment",
    "deployment_environment_name", "container_name",
}  # fmt: skip
"""The subset this stack can emit (model.py's comment): no Kubernetes or cloud resource here."""


@pytest.mark.parametrize("label", sorted(STACK_INDEX_LABELS | model.LOKI_DEFAULT_INDEX_LABELS))
def test_each_label_loki_indexes_by_default_may_be_a_stream_label(label: str) -> None:
    """LOKI_DEFAULT_INDEX_LABELS is Loki's default list as labels, limited to what this stack emits:
    each entry may select a stream, found by its label name; a label Loki does not index is refused."""
    assert label in STACK_INDEX_LABELS and label in model.LOKI_DEFAULT_INDEX_LABELS
    assert label in {attribute.replace(".", "_") for attribute in LOKI_OTLP_DEFAULT_INDEX_ATTRIBUTES}
    fields = {"key": "logs", "description": "-", "emitter": "-", "structured_metadata": ()}
    model.LogSignal(**fields, stream=((label, "x"),), index_labels=(label,))
    with pytest.raises(ValueError, match="Loki does not index"):
        model.LogSignal(**fields, stream=((label, "x"),), index_labels=(label, f"{label}_x"))


@pytest.mark.parametrize("signal", CONTRACT.metrics, ids=lambda s: s.key)
def test_each_resource_label_says_which_resource_attribute_it_comes_from(signal: model.MetricSignal) -> None:
    """label_sources finds `job` and `instance` in RESOURCE_LABEL_SOURCES (what the exporter makes
    them from); a label from an attribute names that attribute."""
    sources = signal.label_sources
    documented = {
        "job": "resource `service.namespace`/`service.name`",
        "instance": "resource `service.instance.id`",
    }
    own = {prometheus_label(attribute) for attribute in signal.attributes}
    for label in set(signal.resource_labels) - own:
        assert sources[label] == documented.get(label, "the resource"), label
    for attribute in signal.attributes:
        assert sources[prometheus_label(attribute)] == f"`{attribute}`"
