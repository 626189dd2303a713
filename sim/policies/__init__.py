"""Pure decision logic with time passed in: no SimPy here, so each rule is tested on its own."""
