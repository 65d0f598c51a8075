"""Running the ETL: the pipeline (fetch -> cost -> write per chunk), the runner that shares
accounts between processes and catches up, the daemon, its health endpoints and signal handling."""
