"""Pieces of UI the pages share: networks, inputs, charts, the answer panel, the lab's run panel, session keys."""
