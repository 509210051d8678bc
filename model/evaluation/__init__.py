"""Evaluating separators on published-format mixture lists: metrics, backends, reports,
`clapsep eval`."""
