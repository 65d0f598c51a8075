"""Is an answer whole? The evidence that a metric is missing from one account's answer for a chunk.

Thanos answers without the series of a store it has not registered yet, or of a shard that timed
out without a warning: a well-formed answer with less in it. Taken as the truth, a missing
total_cost drops or deletes hours, a missing cpu_cost moves CPU into management, a missing exporter
turns its hours into Phase 1 ones. Which gauges a cluster should publish is unknowable (the network
split, lb_cost, pv_cost, even ram_cost may be absent for good, or end), so no rule asks for one: an
answer is suspect only where it lacks a series that is shown to exist around the hour that lacks it.

Within the answer (Phase 2, per cluster and hour; the money gauges only):

1. ``total``: total_cost has no value where the coverage query (the same series' healthy minutes)
   or another money gauge of the cluster has one.
2. ``gap``: a money gauge has no value in hours where the cluster's total has, between hours where
   it has one. Also per account for the components (cpu, ram, pv, network, lb), the stored exporter
   hours right before and after the chunk (the neighbouring chunks) counting as hours where it has
   one when their cost of it is above 0. (A stored hour without the network split holds all its
   network cost as internet, so a stored split is no evidence of its gauges.)

An hour whose samples of that gauge were all no money (NaN, negative; named in a warning by
etl.source.fetch) lacks its value for that reason: no evidence.

Against the stored hours of the days the write would replace (each is known to have existed):

3. ``deleted``: a stored hour that the new rows lack (the write would delete it);
4. ``to_raw``: a stored exporter or mixed hour that would become a Phase 1 one while the answer
   has no exporter series of the account in it;
5. ``cluster``: a cluster of a stored exporter or mixed hour of which the answer has no series in
   that hour, the new hour being an exporter or mixed one too;
6. ``component``: a component (cpu, ram, pv, network, lb) above 0 in a stored exporter hour whose
   gauge has no value in the answer in that hour (the new hour exporter or mixed);
   ``raw_component``: a component above 0 in a stored Phase 1 hour that the new Phase 1 hour has
   at 0.

``findings`` returns, per account, one sentence per (rule, metric): what is missing, in how many
hours, which.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import pandas as pd

from etl.model import (
    ACCOUNT_COLUMN,
    CLUSTER_LABEL,
    CLUSTERS_COLUMN,
    COMPONENT_COLUMNS,
    CURRENCY_LABEL,
    EXPORTER_PRESENCE_COLUMN,
    HEALTHY_MINUTES_COLUMN,
    HOUR,
    KEY_COLUMNS,
    PHASE_COLUMN,
    PHASE_EXPORTER,
    PHASE_MIXED,
    PHASE_RAW,
    RESOURCE_LIST_SEPARATOR,
    HourRange,
    hour_list,
)
from etl.source.exporter import ExporterAnswer
from etl.source.metrics import EXPORTER_COST_METRICS, EXPORTER_PRESENCE_METRIC

TOTAL = EXPORTER_PRESENCE_COLUMN
CLUSTER = [ACCOUNT_COLUMN, CLUSTER_LABEL, CURRENCY_LABEL]
EXPORTER_PHASES = (PHASE_EXPORTER, PHASE_MIXED)
RAW_METRICS_NAME = "the Phase 1 raw metrics"
FINDING_COLUMNS = [*KEY_COLUMNS, "rule", "subject"]
SENTENCES = {
    "total": "{subject} has no value in {n} hour(s) where the exporter's coverage or its other gauges show "
             "the cluster",
    "gap": "{subject} has no value in {n} hour(s) between hours that have one, while the cluster's total has",
    "deleted": "{subject} has no data for {n} stored hour(s), which the write would delete",
    "to_raw": "{subject} has no data for {n} stored exporter hour(s), which would become Phase 1 hours",
    "cluster": "{subject} has no series for {n} stored hour(s) that include it",
    "component": "{subject} has no value for {n} stored hour(s) in which it had one (its cost would move into "
                 "management)",
    "raw_component": "{subject} is 0 in {n} stored Phase 1 hour(s) in which it was not",
}


def evidence_range(hours: HourRange) -> HourRange:
    """The stored hours a check of ``hours`` reads: the whole days the write may replace, and the
    hour on either side of them."""
    day = timedelta(days=1)
    first = hours.start.replace(hour=0)
    last = (hours.end - HOUR).replace(hour=0) + day
    return HourRange(first - HOUR, last + HOUR)


def findings(answer: ExporterAnswer | None, rows: pd.DataFrame, stored: pd.DataFrame, hours: HourRange,
             accounts: Iterable[str]) -> dict[str, list[str]]:
    """Per account of ``accounts`` whose answer is suspect, what is missing (the module's rules).
    ``rows``: the new hourly rows; ``stored``: etl.store.reader.fetch_stored_hours over
    evidence_range(hours)."""
    wanted = set(accounts)

    def own(frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of the accounts asked about, their hours of one type (so that they match)."""
        frame = frame[frame[ACCOUNT_COLUMN].isin(wanted)]
        return frame.assign(hour_start=pd.to_datetime(frame["hour_start"], utc=True).dt.as_unit("ns"))

    answered = own(_empty_answer() if answer is None else answer.answered)
    census = own(pd.DataFrame(columns=[*KEY_COLUMNS, "column"]) if answer is None else answer.census)
    rows, stored = own(rows), own(stored)
    found = pd.concat([
        _explained_away(pd.concat([_total_missing(answered), *_gaps(answered, stored, hours)]), census),
        *_against_stored(answered, rows, stored, hours),
    ], ignore_index=True)
    sentences: dict[str, list[str]] = {}
    for (account, rule, subject), group in found.groupby([ACCOUNT_COLUMN, "rule", "subject"], sort=True):
        starts = set(group["hour_start"])
        text = SENTENCES[str(rule)].format(subject=subject, n=len(starts))
        sentences.setdefault(str(account), []).append(f"{text}: {hour_list(starts)}")
    return sentences


def _empty_answer() -> pd.DataFrame:
    return pd.DataFrame(columns=[*KEY_COLUMNS, CLUSTER_LABEL, CURRENCY_LABEL, HEALTHY_MINUTES_COLUMN, TOTAL])


def _money_gauges(answered: pd.DataFrame) -> list[str]:
    """The money gauges asked for (the network split may not be)."""
    return [column for column in EXPORTER_COST_METRICS if column in answered and column != TOTAL]


def _found(frame: pd.DataFrame, where: pd.Series, rule: str, subject: str, column: str | None = None
           ) -> pd.DataFrame:
    """Findings of ``rule`` about ``subject`` at the (account, hour) of ``frame``'s rows ``where``
    holds; ``column`` names the gauge whose census may explain them."""
    hits = frame.loc[where.to_numpy(dtype=bool), KEY_COLUMNS]
    return hits.assign(rule=rule, subject=subject, column=column)


def _costed(answered: pd.DataFrame) -> pd.Series:
    """Cluster-hours the costing takes: the total has a value over healthy minutes."""
    return answered[TOTAL].notna() & answered[HEALTHY_MINUTES_COLUMN].fillna(0).gt(0)


def _total_missing(answered: pd.DataFrame) -> pd.DataFrame:
    siblings = answered[_money_gauges(answered)].notna().any(axis=1)
    healthy = answered[HEALTHY_MINUTES_COLUMN].fillna(0).gt(0)
    lost = answered[TOTAL].isna() & (healthy | siblings)
    return _found(answered, lost, "total", EXPORTER_PRESENCE_METRIC, TOTAL)


def _between(ordered: pd.DataFrame, groups: Sequence[str], has: pd.Series) -> pd.Series:
    """Rows of ``ordered`` (sorted by ``groups``, then hour) with a row of their group before them
    and one after them where ``has`` holds."""
    flags = has.astype("int8")
    keys = [ordered[g] for g in groups]
    before = flags.groupby(keys, sort=False).cummax()
    after = flags.iloc[::-1].groupby([key.iloc[::-1] for key in keys], sort=False).cummax().iloc[::-1]
    return (before > 0) & (after > 0)


def _gaps(answered: pd.DataFrame, stored: pd.DataFrame, hours: HourRange) -> list[pd.DataFrame]:
    gauges = _money_gauges(answered)
    answered = answered.sort_values([*CLUSTER, "hour_start"])
    costed = _costed(answered)
    found = []
    # Per cluster, within the answer.
    for column in gauges:
        has = answered[column].notna()
        gap = costed & ~has & _between(answered, CLUSTER, has)
        found.append(_found(answered, gap, "gap", EXPORTER_COST_METRICS[column], column))
    # Per account, the stored exporter hours around the chunk at its ends. Not the network split:
    # a stored hour without it holds all network cost as internet, whatever the gauges were.
    gauges = [column for column in gauges if column in COMPONENT_COLUMNS]
    per_hour = answered.assign(costed=costed, **{c: answered[c].notna() for c in gauges})
    accounts = per_hour.groupby(KEY_COLUMNS, as_index=False)[["costed", *gauges]].any()
    ends = stored[stored["hour_start"].isin([hours.start - HOUR, hours.end])
                  & stored[PHASE_COLUMN].eq(PHASE_EXPORTER)]
    ends = ends.assign(costed=False, **{c: ends[c].gt(0) for c in gauges})[[*KEY_COLUMNS, "costed", *gauges]]
    timeline = pd.concat([accounts, ends], ignore_index=True).fillna(False).sort_values(KEY_COLUMNS)
    for column in gauges:
        has = timeline[column].astype(bool)
        gap = timeline["costed"].astype(bool) & ~has & _between(timeline, [ACCOUNT_COLUMN], has)
        found.append(_found(timeline, gap, "gap", EXPORTER_COST_METRICS[column], column))
    return found


def _explained_away(found: pd.DataFrame, census: pd.DataFrame) -> pd.DataFrame:
    """Findings without those of hours whose samples of that gauge were partly not money."""
    if found.empty or census.empty:
        return found[FINDING_COLUMNS]
    marked = found.merge(census.assign(bad=True).drop_duplicates(), on=[*KEY_COLUMNS, "column"], how="left")
    return marked.loc[marked["bad"].isna(), FINDING_COLUMNS]


def _against_stored(answered: pd.DataFrame, rows: pd.DataFrame, stored: pd.DataFrame,
                    hours: HourRange) -> list[pd.DataFrame]:
    days = evidence_range(hours)
    inside = stored[(stored["hour_start"] > days.start) & (stored["hour_start"] < days.end - HOUR)]
    both = inside.merge(rows, on=KEY_COLUMNS, how="left", suffixes=("", "_new"), indicator=True)
    new_days = pd.MultiIndex.from_arrays([rows[ACCOUNT_COLUMN], rows["hour_start"].dt.normalize()])
    days_of = pd.MultiIndex.from_arrays([both[ACCOUNT_COLUMN], both["hour_start"].dt.normalize()])
    rewritten = pd.Series(days_of.isin(new_days), index=both.index)
    was_exporter = both[PHASE_COLUMN].isin(EXPORTER_PHASES)
    now_exporter = both[PHASE_COLUMN + "_new"].isin(EXPORTER_PHASES)
    seen = _seen(answered, both)
    deleted = rewritten & both["_merge"].eq("left_only")
    found = [
        _found(both, deleted & was_exporter, "deleted", EXPORTER_PRESENCE_METRIC),
        _found(both, deleted & ~was_exporter, "deleted", RAW_METRICS_NAME),
        _found(both, was_exporter & both[PHASE_COLUMN + "_new"].eq(PHASE_RAW) & ~seen["any"], "to_raw",
               EXPORTER_PRESENCE_METRIC),
        *_clusters_gone(answered, both[was_exporter & now_exporter]),
    ]
    kept_exporter = both[PHASE_COLUMN].eq(PHASE_EXPORTER) & now_exporter
    for column in COMPONENT_COLUMNS:  # not the split: without it, all network cost is internet
        if column in seen:
            lost = kept_exporter & both[column].gt(0) & ~seen[column]
            found.append(_found(both, lost, "component", EXPORTER_COST_METRICS[column]))
    raw = both[PHASE_COLUMN].eq(PHASE_RAW) & both[PHASE_COLUMN + "_new"].eq(PHASE_RAW)
    for column in COMPONENT_COLUMNS:
        found.append(_found(both, raw & both[column].gt(0) & both[column + "_new"].eq(0), "raw_component",
                            f"the Phase 1 {column}"))
    return found


def _seen(answered: pd.DataFrame, both: pd.DataFrame) -> pd.DataFrame:
    """Per row of ``both`` (account, hour): whether the answer has any exporter series of the account
    in that hour (``any``), and a value of each money gauge."""
    gauges = [TOTAL, *_money_gauges(answered)]
    per_hour = answered.assign(any=True, **{c: answered[c].notna() for c in gauges})
    present = per_hour.groupby(KEY_COLUMNS, as_index=False)[["any", *gauges]].any()
    seen = both[KEY_COLUMNS].merge(present, on=KEY_COLUMNS, how="left")
    return seen.drop(columns=KEY_COLUMNS).fillna(False).astype(bool).set_axis(both.index)


def _clusters_gone(answered: pd.DataFrame, both: pd.DataFrame) -> list[pd.DataFrame]:
    changed = both[both[CLUSTERS_COLUMN].notna() & both[CLUSTERS_COLUMN].ne(both[CLUSTERS_COLUMN + "_new"])]
    named = changed[[*KEY_COLUMNS, CLUSTERS_COLUMN, CLUSTERS_COLUMN + "_new"]]
    if named.empty:
        return []
    stored = named.assign(cluster=named[CLUSTERS_COLUMN].str.split(RESOURCE_LIST_SEPARATOR)).explode("cluster")
    new = stored[CLUSTERS_COLUMN + "_new"].fillna("").str.split(RESOURCE_LIST_SEPARATOR)
    gone = stored[[cluster not in names for cluster, names in zip(stored["cluster"], new, strict=True)]]
    answered_clusters = answered[[*KEY_COLUMNS, CLUSTER_LABEL]].drop_duplicates().rename(
        columns={CLUSTER_LABEL: "cluster"}).assign(answered=True)
    gone = gone.merge(answered_clusters, on=[*KEY_COLUMNS, "cluster"], how="left")
    gone = gone[gone["answered"].isna()]
    return [_found(group, pd.Series(True, index=group.index), "cluster", f"cluster {cluster}")
            for cluster, group in gone.groupby("cluster", sort=True)]
