"""queuefull studio: pick or write a capacity model, run it, turn its knobs, and see where
the queues fill. ``make app`` serves it on localhost:8501.

Only pages and widgets live here; every number comes from ``sim`` (the library the CLI
and notebooks use), the studio's helpers from ``sim.studio``.
"""

from __future__ import annotations

import streamlit as st

# The guard keeps the process pool's spawned workers, which import this file as
# __mp_main__, from drawing a page of their own.
if __name__ == "__main__":
    st.set_page_config(page_title="queuefull studio", page_icon="📈", layout="wide")

    from studio.main import main  # after the page config, which must come first

    main()
