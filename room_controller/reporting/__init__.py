"""The session report: the journal's record read for people and programs (spans, words, the page, vitals).

Beside the journal rather than in it: the journal stores what happened, and the vitals desk writes into it;
the report reads both, so it sits above them and neither imports it.
"""
