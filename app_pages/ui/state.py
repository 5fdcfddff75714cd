"""The session-state keys that several pages share, named once.

The drawing follows the learner from page to page: its strokes (to start another page's canvas from
them) and its pixels (for a canvas that has not sent its own yet), and the pen width they chose.
"""

PEN = "pen"  # the pen width, in canvas pixels
DRAWING = "drawing"  # the shared canvas' strokes, as the canvas sends them: [{"points": [[x, y], ...], "width"}]
DRAWING_GRAY = "drawing_gray"  # the shared canvas' picture: gray in [0, 1], 280x280
ETA_SEEN = "lab_eta_seen"  # each running run's last time-left estimate and when this session first saw it
LAUNCHES = "lab_launches"  # the lab's recent launches: settings -> (when, runs), to launch once per press
