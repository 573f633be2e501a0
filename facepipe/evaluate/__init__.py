"""Measuring outputs: head pose (and, as they land, expression, identity and SR quality)."""
