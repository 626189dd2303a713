"""What a run measured and what it means: recorders on the hot path, the metric registry
(name, unit, which way is better, description), results tables with their intervals, and
the recovery time after a disturbance."""
