"""Calibration from production: fit a work or latency distribution to what users have
(samples, a few percentiles read off a dashboard, a Prometheus histogram), and infer a
service's mean work from throughput, utilisation and concurrency.

- ``observed``: reading the observations (sample files, percentiles, Prometheus text);
- ``families``: the candidate distributions, each fitted three ways;
- ``fit``: choosing among them by the tail percentiles, and the YAML to paste;
- ``laws``: mean work by the utilisation law and Little's law, with consistency checks.
"""
