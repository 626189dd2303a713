"""The studio's Streamlit pages and widgets (``app.py`` lays them out); what they compute
comes from ``sim`` and ``sim.studio``."""
