"""Phase 1 prices joined to amounts: what each namespace was allocated, and what the capacity costs.

Every priced resource follows one rule (``Resource``): an amount (allocated per namespace, or the
capacity) on a node or volume, divided by its unit, times that node's or volume's price in the same
account and hour. One price serves both, so a node's allocations never cost more than its capacity
at any price. A node or volume with an amount but no usable price (none, 0, NaN) is priced at the
configured default and named (``defaulted``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from etl.model import (
    GIB,
    KEY_COLUMNS,
    NAMESPACE_LABEL,
    NODE_LABEL,
    RESOURCE_LIST_SEPARATOR,
    VOLUME_LABEL,
    VOLUME_NAME_LABEL,
    HourRange,
    hour_label,
)

log = logging.getLogger(__name__)

DEFAULTED_COLUMNS = [*KEY_COLUMNS, "resource", "kind", "name", "default_price"]


@dataclass(frozen=True)
class Resource:
    name: str  # as default_priced_resources and warnings name it
    cost: str  # the cost column it feeds
    key: str  # the label naming the node or volume
    kind: str  # node / pv
    amount: str  # the frames' amount column
    unit: float  # amount per priced unit (a price is per core-, GPU- or GiB-hour)


CPU = Resource("cpu", "cpu_cost", NODE_LABEL, "node", "cores", 1.0)
RAM = Resource("ram", "ram_cost", NODE_LABEL, "node", "bytes", GIB)
GPU = Resource("gpu", "gpu_cost", NODE_LABEL, "node", "gpus", 1.0)
STORAGE = Resource("storage", "pv_cost", VOLUME_LABEL, "pv", "bytes", GIB)
RESOURCES = (CPU, RAM, GPU, STORAGE)
UNITS = {"cpu": "core-hour", "ram": "GiB-hour", "gpu": "GPU-hour", "storage": "GiB-hour"}


@dataclass(frozen=True)
class Priced:
    namespaces: pd.DataFrame  # KEY_COLUMNS + namespace: dollars, amount allocated
    capacity: pd.DataFrame  # KEY_COLUMNS: dollars, amount of capacity
    defaulted: pd.DataFrame  # DEFAULTED_COLUMNS


def volume_prices(pv_price: pd.DataFrame) -> pd.DataFrame:
    """Price per (account, hour, persistentvolume): the volume is named by ``persistentvolume``,
    or by ``volumename`` where a series lacks it; copies of one volume's price are averaged."""
    frame = pv_price.copy()
    named = frame[VOLUME_LABEL].astype(str)
    frame[VOLUME_LABEL] = named.where(named != "", frame[VOLUME_NAME_LABEL].astype(str))
    return frame.groupby([*KEY_COLUMNS, VOLUME_LABEL])["price"].mean().reset_index()


def price_resource(resource: Resource, allocation: pd.DataFrame, capacity: pd.DataFrame, prices: pd.DataFrame,
                   default_price: float) -> Priced:
    """``resource``'s allocations per namespace and capacity per account-hour, in dollars."""
    key, amount = resource.key, resource.amount
    by_key = [*KEY_COLUMNS, key]
    allocated = allocation.groupby([*by_key, NAMESPACE_LABEL])[amount].sum().reset_index()
    capacity = capacity.groupby(by_key)[amount].sum().reset_index()
    needed = pd.concat([allocated[[*by_key, amount]], capacity]).groupby(by_key)[amount].sum().reset_index()
    joined = needed.merge(prices[[*by_key, "price"]], on=by_key, how="left")
    usable = joined["price"].notna() & (joined["price"] > 0)
    joined["price_used"] = joined["price"].where(usable, default_price)
    # A zero amount costs nothing at any price: only real amounts need a price.
    defaulted = joined[~usable & (joined[amount] > 0)][by_key].rename(columns={key: "name"})
    defaulted = defaulted.assign(resource=resource.name, kind=resource.kind, default_price=default_price)
    price = joined[[*by_key, "price_used"]]

    def in_dollars(frame: pd.DataFrame, per: list[str]) -> pd.DataFrame:
        priced = frame.merge(price, on=by_key, how="left")
        priced["dollars"] = priced[amount] / resource.unit * priced["price_used"]
        return priced.groupby(per, as_index=False)[["dollars", amount]].sum()

    return Priced(in_dollars(allocated, [*KEY_COLUMNS, NAMESPACE_LABEL]), in_dollars(capacity, KEY_COLUMNS),
                  defaulted[DEFAULTED_COLUMNS])


def resource_names(defaulted: pd.DataFrame) -> pd.DataFrame:
    labels = defaulted["resource"] + ":" + defaulted["kind"] + "/" + defaulted["name"].replace("", "(none)")
    named = defaulted[KEY_COLUMNS].assign(label=labels)
    return (
        named.groupby(KEY_COLUMNS)["label"]
        .agg(lambda values: RESOURCE_LIST_SEPARATOR.join(sorted(set(values))))
        .rename("default_priced_resources")
        .reset_index()
    )


def _plain(price: float) -> str:
    """A price in plain decimal notation (0.00005479452, not 5.479452e-05)."""
    return format(Decimal(repr(price)), "f")


def log_default_prices(defaulted: pd.DataFrame, hours: HourRange) -> None:
    """One warning per account and resource priced by default in ``hours`` (not one per hour)."""
    if defaulted.empty:
        return
    groups = defaulted.groupby(["cloud_account_id", "resource", "kind", "name"], sort=True)
    for (account, resource, kind, name), group in groups:
        log.warning(
            "No %s price for %s %s of account %s in %d hour(s) of %s (first %s): priced at the default "
            "%s USD per %s in Phase 1", resource, kind, name or "(none)", account, len(group), hours,
            hour_label(group["hour_start"].min()), _plain(float(group["default_price"].iloc[0])),
            UNITS[str(resource)],
        )
