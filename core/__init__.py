"""Vision Playground core: data, preprocessing, models, training and inference.

Nothing in this package imports Streamlit, so every function here can be called
from a page, the command line, a test or a background training process.
"""
