"""What the report shows: figures and the headline.

plots       Every figure of the report (curves, templates, searches, ablations, range tests).
summary     The headline table (results/summary.md) and the report's front page.
"""
