"""Diagnosis: where a model's queues fill, the root cause against its symptoms, the
overload mechanisms present, the headroom of a healthy model, and candidate fixes ranked
by what simulating them on the same random numbers showed."""

from sim.diagnose.diagnosis import Diagnosis, TriedFix, diagnose

__all__ = ["Diagnosis", "TriedFix", "diagnose"]
