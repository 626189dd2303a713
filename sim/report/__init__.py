"""What a person reads: the run's report as data (:mod:`sim.report.summary`), as terminal
text (:mod:`sim.report.terminal`) and as one self-contained HTML page
(:mod:`sim.report.html`)."""
