"""The stable import path for the platform's API code: ``from etl.report import cluster_costs``.

The report lives in etl.read.report; this module only names what callers outside the package may
rely on, so the package can be rearranged without breaking them.
"""

from etl.read.namespaces import namespace_costs, shape_namespace_report
from etl.read.report import cluster_costs, days_of_interval, shape_report

__all__ = ["cluster_costs", "days_of_interval", "namespace_costs", "shape_namespace_report", "shape_report"]
