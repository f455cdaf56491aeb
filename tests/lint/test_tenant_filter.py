import pytest

from dashboards_as_code import queries as q
from dashboards_as_code.defaults import ALL_TENANTS
from dashboards_as_code.lint.checks.tenant_filter import CHECK
from telemetry.contract import BACKEND_LOGS, SOCKETIO_CONNECTIONS, SPAN_CALLS
from tests.lint.builders import board, check, context, document, findings, panel, raw


def test_real_overview_passes(overview) -> None:  # type: ignore[no-untyped-def]
    assert findings(CHECK, overview) == []


def test_series_without_tenant_label_needs_no_filter() -> None:
    assert findings(CHECK, board(panel("Routes", expr=q.sum_by(q.rate(q.select(SPAN_CALLS)))))) == []


def test_tenant_signal_without_filter() -> None:
    expr = raw('sum(tiktickets_socketio_connections{job="tiktickets/tiktickets-backend"})')
    (finding,) = findings(CHECK, board(panel("Everyone", expr=expr)))
    assert finding.location.panel == "Everyone"
    assert 'reads tiktickets_socketio_connections without tenant_id=~"$tenant"' in finding.message


def test_every_tenant_without_the_all_gate_is_not_filtered() -> None:
    """Leaving out the aggregate row is not following `$tenant`: with one tenant picked, this panel
    still shows every tenant. Only the top-k form, gated on All being selected, may read every tenant."""
    expr = raw(f'sum(tiktickets_socketio_connections{{tenant_id!="{ALL_TENANTS}"}})')
    (finding,) = findings(CHECK, board(panel("Everyone but the row", expr=expr)))
    assert finding.location.panel == "Everyone but the row"
    assert 'reads tiktickets_socketio_connections without tenant_id=~"$tenant"' in finding.message


def test_the_gated_top_k_reads_every_tenant_only_at_all() -> None:
    topk = q.tenant_topk(3, SOCKETIO_CONNECTIONS)
    assert f'tenant_id!="{ALL_TENANTS}"' in topk.text  # the every-tenant arm is really there
    assert findings(CHECK, board(panel("Top tenants", expr=topk))) == []


def test_logs_without_tenant_filter(overview) -> None:  # type: ignore[no-untyped-def]
    lint = context(overview)
    logs_panel = next(p for p in document(lint, overview)["panels"] if p["type"] == "logs")
    logs_panel["targets"][0]["expr"] = q.log_lines(BACKEND_LOGS, errors_only=True, tenant_filter=False).text
    (finding,) = check(CHECK, lint)
    assert finding.location.panel == logs_panel["title"]
    assert "reads tenant logs without" in finding.message


def test_a_tenant_matcher_in_the_stream_selector_is_not_the_filter(overview) -> None:  # type: ignore[no-untyped-def]
    """tenant_id is structured metadata, not a stream label: `{..., tenant_id=~"$tenant"}` selects no
    stream at all; only the pipeline filter `| tenant_id=~"$tenant"` follows the picker."""
    lint = context(overview)
    logs_panel = next(p for p in document(lint, overview)["panels"] if p["type"] == "logs")
    unfiltered = q.log_lines(BACKEND_LOGS, errors_only=True, tenant_filter=False).text
    selector_end = unfiltered.index("}")
    logs_panel["targets"][0]["expr"] = (
        unfiltered[:selector_end] + ', tenant_id=~"$tenant"' + unfiltered[selector_end:]
    )
    (finding,) = check(CHECK, lint)
    assert "reads tenant logs without" in finding.message


def test_the_all_gate_lets_through_only_the_every_tenant_arm_and_only_when_it_is_there() -> None:
    """Near misses of the gated top-k: a query that follows `$tenant` in one selector but reads every
    tenant in another without the `tenant_id="__all__"` gate, and a gated query with a third selector
    that filters on nothing, both show every tenant with one picked."""
    picked = 'sum(tiktickets_socketio_connections{tenant_id=~"$tenant"})'
    everyone = f'sum(tiktickets_socketio_connections{{tenant_id!="{ALL_TENANTS}"}})'
    (ungated,) = findings(CHECK, board(panel("Share", expr=raw(f"{picked} / {everyone}"))))
    assert ungated.location.panel == "Share"
    assert 'reads tiktickets_socketio_connections without tenant_id=~"$tenant"' in ungated.message
    topk = q.tenant_topk(3, SOCKETIO_CONNECTIONS)
    (extra,) = findings(
        CHECK, board(panel("Top", expr=raw(f"{topk.text} or tiktickets_socketio_connections")))
    )
    assert extra.location.panel == "Top"
    assert 'reads tiktickets_socketio_connections without tenant_id=~"$tenant"' in extra.message


_STREAM = dict(BACKEND_LOGS.stream)
_NAMESPACE, _SERVICE = _STREAM["service_namespace"], _STREAM["service_name"]


@pytest.mark.parametrize(
    ("selector", "reads_tenant_logs"),
    [
        (f'{{service_namespace="{_NAMESPACE}"}}', True),  # the namespace alone holds the backend's stream
        (f'{{service_name=~"{_SERVICE[:3]}.*"}}', True),
        ('{service_name=~"$service"}', True),  # a variable may take the backend's name
        (f'{{service_name="{_SERVICE}", deployment_environment_name="prod"}}', True),
        ('{service_name="vector"}', False),
        (f'{{service_name!="{_SERVICE}"}}', False),
        (f'{{service_name=~"{_SERVICE[:3]}"}}', False),  # anchored: a prefix alone matches nothing
        (f'{{service_namespace="{_NAMESPACE}", service_name!~"{_SERVICE}"}}', False),
    ],
)
def test_a_log_query_is_checked_when_its_selector_can_match_a_tenant_scoped_stream(  # type: ignore[no-untyped-def]
    overview, selector: str, reads_tenant_logs: bool
) -> None:
    """Any stream selector that the tenant-scoped log stream can pass reads tenant logs and must
    follow the picker, however it is spelled; one that contradicts a label of that stream (another
    service, an anchored regex that misses it) reads other logs and is not held to it. Loki's
    matchers are fully anchored regexes."""
    lint = context(overview)
    logs_panel = next(p for p in document(lint, overview)["panels"] if p["type"] == "logs")
    logs_panel["targets"][0]["expr"] = f"{selector} |= `error`"
    found = check(CHECK, lint)
    if reads_tenant_logs:
        (finding,) = found
        assert "reads tenant logs without" in finding.message
    else:
        assert found == []


def test_a_metric_query_reads_tenant_logs_through_any_of_its_selectors(overview) -> None:  # type: ignore[no-untyped-def]
    lint = context(overview)
    logs_panel = next(p for p in document(lint, overview)["panels"] if p["type"] == "logs")
    logs_panel["targets"][0]["expr"] = (
        'sum(count_over_time({service_name="vector"}[5m])) '
        f'/ sum(count_over_time({{service_namespace="{_NAMESPACE}"}}[5m]))'
    )
    (finding,) = check(CHECK, lint)
    assert finding.location.panel == logs_panel["title"]
    assert "reads tenant logs without" in finding.message


def test_the_aggregate_row_alone_does_not_gate_every_tenant() -> None:
    """The gate that lets one arm read every tenant is the top-k form: the picked tenants
    (`tenant_id=~"$tenant"`) and the aggregate row together. A query with the aggregate row and every
    tenant but no `$tenant` anywhere still shows every tenant with one tenant picked."""
    expr = raw(
        f'sum(tiktickets_socketio_connections{{tenant_id="{ALL_TENANTS}"}})'
        f' or sum(tiktickets_socketio_connections{{tenant_id!="{ALL_TENANTS}"}})'
    )
    found = findings(CHECK, board(panel("Row and everyone", expr=expr)))
    assert [f.message for f in found] == [
        'query A reads tiktickets_socketio_connections without tenant_id=~"$tenant"'
    ] * 2, "one finding per arm: the aggregate row's and the every-tenant one's"
