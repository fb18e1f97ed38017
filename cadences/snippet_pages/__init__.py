"""Managers' and admins' pages for the shared snippets (cadences.snippets); reps pick them when writing."""
