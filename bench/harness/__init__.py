"""What drives the app from outside, shared by tests/ and bench/ (bench imports nothing from tests/):

- ``command_line``: ``python -m core ...`` in a fresh process, as a shell runs it;
- ``browser``: the app served by ``streamlit run`` and Chromium driven by Playwright;
- ``live``: the live reading in Chromium against the server's reading;
- ``misconfig``: settings that name something unusable, made on purpose (read-only folders, Ray heads);
- ``shapes``: drawn circles, crosses and triangles for the own-classes checks;
- ``pen``: UNIPEN's pen digits as the canvas sends them, for the class-mode checks.
"""
