"""Reading what is stored: the cluster-costs report, its chart, and `doctor`."""
