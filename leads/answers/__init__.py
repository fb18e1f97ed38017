"""Pages where a rep answers a lead: write an email or a text, and the lead's conversation (issue 14)."""
