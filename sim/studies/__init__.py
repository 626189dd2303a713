"""Studies of a model: a run, a sweep, a capacity search, an SLO check. They share one
preflight (stability and the work budget), one replicate-until-settled loop, one rule for
the starting replications, the Verdict type, and one place where replications run
(``parallel``); progress is reported through a callback."""
