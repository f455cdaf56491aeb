"""The OTel -> Prometheus naming rules (dashboards_as_code/contract/model.py), one rule at a time.

Expected names are written by hand from the translation rules (telemetry-contract.md §2.1, the
OTel specification's "OTLP metric points to Prometheus" and Prometheus' data model), not read from
the code: every character outside `[a-zA-Z0-9:]` separates words joined by a single `_` (so no `_`
at either end), the unit suffix and `per_` suffix follow, `_total` ends a monotonic counter, `_ratio`
a gauge of unit `1`, and a name that would start with a digit gets `_` before it.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboards_as_code.contract.model import (
    ContractError,
    Instrument,
    prometheus_base_name,
    prometheus_label,
)

PROMETHEUS_METRIC_NAME = r"^[a-zA-Z_:][a-zA-Z0-9_:]*$"
"""Prometheus' data model, spelled here rather than imported so the test does not share the engine's."""
PROMETHEUS_LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"

C, UDC, G, H = Instrument.COUNTER, Instrument.UP_DOWN_COUNTER, Instrument.GAUGE, Instrument.HISTOGRAM


@pytest.mark.parametrize(
    ("otel", "unit", "instrument", "expected"),
    [
        # A `-` is not a separator Prometheus keeps: it becomes `_` like the `.`.
        ("my-app.requests", "", C, "my_app_requests_total"),
        ("my-app.requests", "{request}", UDC, "my_app_requests"),
        ("checkout-service.cart-size", "By", G, "checkout_service_cart_size_bytes"),
        # Binary prefixes keep their own word (otlptranslator's unitMap): KiBy is kibibytes, not kilobytes.
        ("cache.size", "KiBy", G, "cache_size_kibibytes"),
        ("upload.size", "KBy", G, "upload_size_kilobytes"),
        ("heap.size", "MiBy", G, "heap_size_mebibytes"),
        # `/` in a name (not in a unit) is one more invalid character.
        ("http/server/latency", "ms", H, "http_server_latency_milliseconds"),
        ("api/v2.calls", "", C, "api_v2_calls_total"),
        ("queue/depth", "{item}", G, "queue_depth"),
        # A name that would start with a digit gets a `_` before it.
        ("5xx.responses", "", C, "_5xx_responses_total"),
        ("2fa.logins", "{login}", UDC, "_2fa_logins"),
        ("-3d.renders", "s", H, "_3d_renders_seconds"),
        ("é1.x", "", G, "_1_x"),
        # Non-ASCII letters and digits are outside [a-zA-Z0-9:]: each run of them is one `_`.
        ("café.orders", "", C, "caf_orders_total"),
        ("pedidos.año", "", G, "pedidos_a_o"),
        ("温度.sensor", "Cel", G, "sensor_celsius"),
        ("\u0663.requests", "", C, "requests_total"),  # ARABIC-INDIC DIGIT THREE is not [0-9]
        ("naïve\u200bcount", "", G, "na_ve_count"),  # a zero-width space separates too
        # Repeated separators collapse to one `_`; none stays at either end; `:` is kept.
        ("a__b..c--d", "", G, "a_b_c_d"),
        ("_private.metric_", "", G, "private_metric"),
        ("queue depth", "", G, "queue_depth"),
        ("ns:requests", "", C, "ns:requests_total"),
        # Unit suffixes: not repeated when the word is already a token; `a/b` -> `a_per_b`;
        # a `{...}` part of the unit names nothing, the other part still does.
        ("network.bytes", "By/s", G, "network_bytes_per_second"),
        ("network.io", "By/s", G, "network_io_bytes_per_second"),
        ("net.packets", "{packet}/s", G, "net_packets_per_second"),
        ("disk.io", "By/{op}", C, "disk_io_bytes_total"),
        ("events", "1/s", G, "events_per_second"),
        ("job.runtime", " s ", H, "job_runtime_seconds"),
        # Type suffixes: `_total` and `_ratio` always last, never doubled.
        ("requests.total.count", "", C, "requests_count_total"),
        ("cpu.ratio.used", "1", G, "cpu_used_ratio"),
        ("cpu.used", "1", UDC, "cpu_used"),
        ("bytes.sent", "By", C, "bytes_sent_total"),
    ],
)
def test_a_name_is_translated_as_the_collector_does(
    otel: str, unit: str, instrument: Instrument, expected: str
) -> None:
    assert prometheus_base_name(otel, unit, instrument) == expected


@pytest.mark.parametrize(("otel", "instrument"), [("温度", G), ("...", H), ("-_-", UDC), ("", G)])
def test_a_name_with_nothing_prometheus_can_hold_is_refused(otel: str, instrument: Instrument) -> None:
    with pytest.raises(ContractError, match="keeps no character"):
        prometheus_base_name(otel, "", instrument)


@pytest.mark.parametrize(
    ("attribute", "expected"),
    [
        ("http.route", "http_route"),
        ("my-app.tenant", "my_app_tenant"),
        ("http/route", "http_route"),
        ("2xx", "key_2xx"),
        ("_tenant", "key_tenant"),
        ("__name__", "__name__"),
        ("café", "caf_"),
        ("a..b", "a__b"),  # labels keep one `_` per character: no collapsing
    ],
)
def test_an_attribute_is_translated_as_the_collector_does(attribute: str, expected: str) -> None:
    assert prometheus_label(attribute) == expected


UNITS = ["", "1", "s", "ms", "By", "By/s", "1/s", "{request}", "{packet}/s", "By/{op}", "%", "Cel"]


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=40), st.sampled_from(UNITS), st.sampled_from(list(Instrument)))
def test_every_produced_metric_name_is_one_prometheus_accepts(
    otel: str, unit: str, instrument: Instrument
) -> None:
    try:
        name = prometheus_base_name(otel, unit, instrument)
    except ContractError:
        assert not any(c.isascii() and (c.isalnum() or c == ":") for c in otel)  # refused only when empty
        return
    assert re.match(PROMETHEUS_METRIC_NAME, name), (otel, name)
    assert "__" not in name and not name.endswith("_"), (otel, name)


WORD = st.text(min_size=1, max_size=8)
SEPARATOR = st.sampled_from([".", "-", "/", " ", "_", "..", "-/"])


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(WORD, SEPARATOR), min_size=1, max_size=5), st.sampled_from(list(Instrument)))
def test_names_built_like_otel_names_with_any_characters_give_valid_names(
    parts: list[tuple[str, str]], instrument: Instrument
) -> None:
    otel = "".join(word + separator for word, separator in parts)
    name = prometheus_base_name(otel, "s", instrument)  # the unit's word is always left: never refused
    assert re.match(PROMETHEUS_METRIC_NAME, name), (otel, name)
    assert "seconds" in name.split("_"), (otel, name)


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_every_produced_label_is_one_prometheus_accepts(attribute: str) -> None:
    assert re.match(PROMETHEUS_LABEL_NAME, prometheus_label(attribute)), attribute
