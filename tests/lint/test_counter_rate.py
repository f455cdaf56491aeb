from dashboards_as_code.lint.checks.counter_rate import CHECK
from tests.lint.builders import board, findings, panel, raw


def test_contract_queries_pass(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


def test_raw_counter() -> None:
    (finding,) = findings(CHECK, board(panel("Total", expr=raw("sum(tenant_span_metrics_calls_total)"))))
    assert "reads counter tenant_span_metrics_calls_total outside rate()/increase()" in finding.message


def test_a_rate_not_summed_is_a_rate() -> None:
    """`rate(c[5m])` alone: the selector's parents are the matrix selector and the call, nothing else."""
    assert (
        findings(CHECK, board(panel("Per series", expr=raw("rate(tenant_span_metrics_calls_total[5m])"))))
        == []
    )


def test_histogram_bucket_outside_rate() -> None:
    expr = raw("histogram_quantile(0.9, sum by (le) (traces_span_metrics_duration_seconds_bucket))")
    (finding,) = findings(CHECK, board(panel("Since boot", expr=expr)))
    assert "traces_span_metrics_duration_seconds_bucket outside rate()" in finding.message


def test_rate_of_a_gauge() -> None:
    (finding,) = findings(
        CHECK, board(panel("Wrong", expr=raw("sum(rate(tiktickets_socketio_connections[5m]))")))
    )
    assert "takes rate() of gauge tiktickets_socketio_connections" in finding.message


def test_increase_is_fine() -> None:
    assert (
        findings(
            CHECK, board(panel("Day", expr=raw("sum(increase(tiktickets_whatsapp_messages_sent_total[1d]))")))
        )
        == []
    )


def test_irate_of_a_counter_is_fine() -> None:
    """irate() is rate() from the last two samples: a counter belongs inside it as much as in rate()."""
    expr = raw("sum(irate(tiktickets_whatsapp_messages_sent_total[5m]))")
    assert findings(CHECK, board(panel("Now", expr=expr))) == []


def test_irate_of_a_gauge_is_refused() -> None:
    (finding,) = findings(
        CHECK, board(panel("Wrong", expr=raw("sum(irate(tiktickets_socketio_connections[5m]))")))
    )
    assert "takes rate() of gauge tiktickets_socketio_connections" in finding.message


def test_a_query_that_does_not_parse_does_not_hide_the_queries_after_it() -> None:
    """The PromQL checks read every query that parses; one that does not is query-metrics' finding,
    and the raw counter in the next panel is still this check's."""
    broken = panel("Broken", expr=raw("sum(tenant_span_metrics_calls_total"))
    total = panel("Total", expr=raw("sum(tenant_span_metrics_calls_total)"))
    (finding,) = findings(CHECK, board(broken, total))
    assert finding.location.panel == "Total"
    assert "reads counter tenant_span_metrics_calls_total outside rate()/increase()" in finding.message
