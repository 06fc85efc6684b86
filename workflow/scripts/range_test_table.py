"""Rule range_test_table: the bounds every range test of a lab proposes, with the network
and lambda it tested and the rule that read them off."""

from dd2424.io import read_json, setup_logging, write_table
from dd2424.report.tables import range_test_table

setup_logging(snakemake.log[0])
names, files = snakemake.params.names, snakemake.input.proposals
table, note = range_test_table({n: read_json(p) for n, p in zip(names, files, strict=True)})
write_table(table, snakemake.output.tsv, snakemake.output.md, note=note)
