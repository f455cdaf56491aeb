from dashboards_as_code.lint.checks.dashboard_uid import CHECK
from tests.lint.builders import board, findings, panel


def test_valid_unique_uids_pass() -> None:
    assert findings(CHECK, board(panel("a"), uid="one"), board(panel("b"), uid="two")) == []


def test_duplicate_uid_names_both_dashboards() -> None:
    (finding,) = findings(CHECK, board(panel("a"), uid="same"), board(panel("b"), uid="same"))
    assert finding.check == "dashboard-uid"
    assert finding.location.dashboard == "same"
    assert "also used by dashboards/same.py" in str(finding)


def test_uid_grafana_rejects() -> None:
    long = "x" * 41
    (too_long,) = findings(CHECK, board(panel("a"), uid=long))
    assert "at most 40" in too_long.message
    (bad_chars,) = findings(CHECK, board(panel("a"), uid="tik tickets"))
    assert "may only contain" in bad_chars.message


def test_uids_that_differ_only_in_case_are_one_uid() -> None:
    (finding,) = findings(CHECK, board(panel("a"), uid="overview"), board(panel("b"), uid="Overview"))
    assert finding.location.dashboard == "Overview"
    assert (
        "uid 'Overview' and uid 'overview' of dashboards/overview.py differ only in case" in finding.message
    )
    assert "dashboards/Overview.py" in str(finding)


def test_case_is_compared_for_every_pair() -> None:
    boards = [board(panel("a"), uid=uid) for uid in ("ops", "OPS", "Ops", "other")]
    assert [f.location.dashboard for f in findings(CHECK, *boards)] == ["OPS", "Ops"]
