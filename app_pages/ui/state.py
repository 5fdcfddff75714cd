"""The session-state keys that several pages share, named once.

The drawing follows the learner from page to page: its canvas JSON (to start another page's canvas
from it) and its pixels (for a canvas that has not sent its own yet), and the pen width they chose.
"""

PEN = "pen"  # the pen width, in canvas pixels
DRAWING_JSON = "drawing_json"  # the shared canvas' objects, as the canvas component sends them
DRAWING_GRAY = "drawing_gray"  # the shared canvas' picture: gray in [0, 1], 280x280
LAUNCHES = "lab_launches"  # the lab's recent launches: settings -> (when, runs), to launch once per press
