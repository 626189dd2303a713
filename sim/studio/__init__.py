"""What the browser studio (``app.py``) computes, apart from Streamlit so it is tested and
reused: knobs from the schema, the service-graph picture, charts, the headline, the
shareable page state and the command line that reproduces an action.
"""
