"""What the report shows: figures, tables and the headline.

plots       Every figure of the report (curves, templates, searches, ablations, range tests).
tables      The tables that gather several runs (test accuracy, range tests, lab 4's
            comparisons), with one set of settings columns for every table of runs.
summary     The headline table (results/summary.md) and the report's front page.
"""
