"""k8s-cost-etl: Kubernetes cost metrics in Thanos -> daily cost rows in PostgreSQL."""

__version__ = "0.1.0"
