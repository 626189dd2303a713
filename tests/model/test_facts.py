"""What the schema says about a numeric field, as widgets need it."""

from __future__ import annotations

from sim.model.facts import number_facts
from sim.model.service import Call, Service


def test_number_facts_come_from_the_field_declarations():
    workers = number_facts(Service, "workers")
    assert workers.integer and workers.low == 1 and workers.unit == "workers"
    timeout = number_facts(Call, "timeout")
    assert not timeout.integer and timeout.unit == "s" and timeout.above_low
    assert number_facts(Service, "queue").low == 0  # from the field's own minimum
    assert number_facts(Service, "balancer") is None  # not a number
    assert number_facts(Call, "parallel") is None  # booleans are not knobs
