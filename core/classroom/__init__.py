"""Class mode: a teacher's class, its students and what they draw (issue 31).

``db`` opens the store (SQLite under ``VP_HOME``, or the database ``VP_CLASS_DB`` names), ``store`` is what
a class does with it (start, join, submit, hide, delete), ``prompts`` picks what each student draws next,
``stats`` reads the class's drawings with the Draw page's networks, ``letters`` compares a letter reader taught by
one hand with one taught by the class (activity 4), ``export`` writes a class as a zip.
"""
