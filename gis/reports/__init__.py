"""Reports: analysis results rendered as HTML, PDF and spreadsheets (no database access)."""
