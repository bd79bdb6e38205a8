"""Anonymised statistics for leadership: fixed tables, disclosure control, charts, exports.

The package reads coded facts with the statistics key only (``conduct.crypto.columns``'
``open_padded_coded_documents``): it reaches no case data key and no identifying field, and a test
keeps it so. docs/statistics.md explains the counting rules and the disclosure control.

- :mod:`.tables`: the tables, their dimensions, and counting every reachable cell.
- :mod:`.facts`: reading the coded facts of cases and their rows, once per row.
- :mod:`.disclosure`: which cells are suppressed, decided once for all reachable answers.
- :mod:`.timeliness`: days to referral and to finding, and the share overdue.
- :mod:`.services`: answers, the in-process cache of computed tables, audit events.
"""
