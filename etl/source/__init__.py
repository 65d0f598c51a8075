"""Thanos in: the HTTP client, every PromQL text, and range answers -> hourly frames per phase."""
