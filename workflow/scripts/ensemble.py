"""Rule ensemble: the test accuracy of an ensemble (majority and soft vote) next to its
members', from their saved parameters: runs that differ only in seed (kind ``seeds``), or the
cycle snapshots of one run (kind ``snapshots``)."""

import logging

import numpy as np

from dd2424.io import exit_with, load_arrays, map_arrays, read_json, setup_logging, write_table
from dd2424.mlp import ensembles
from dd2424.mlp.ablation import ensemble_table
from dd2424.mlp.runs import build_network

setup_logging(snakemake.log[0])
spec = snakemake.params.ensemble
split = map_arrays(snakemake.input.split)
X, y = split["X_test"], split["y_test"].astype(np.intp)
metrics = [read_json(path) for path in snakemake.input.metrics]
settings = metrics[0]["settings"]
if spec["kind"] == "seeds":
    members = [ensembles.without_snapshots(load_arrays(p)) for p in snakemake.input.params]
    names = spec["runs"]
    updates = [m["updates_done"] for m in metrics]
else:
    members = ensembles.members(load_arrays(snakemake.input.params[0]))
    updates = metrics[0]["snapshot_updates"]
    names = [f"{spec['runs'][0]} snapshot {c} (update {u})" for c, u in enumerate(updates, 1)]
    if not members:
        exit_with(f"run {spec['runs'][0]} saved no snapshots (it needs snapshots: true)")
K = members[0][f"W{len(settings['hidden']) + 1}"].shape[0]
net = build_network(settings, X.shape[1], K)
try:
    result = ensembles.evaluate(net, members, X, y)
except ValueError as err:
    exit_with(
        f"the members of ensemble {snakemake.wildcards.ensemble} do not fit one network: {err}"
    )
table = ensemble_table(names, result, updates, spec["kind"])
logging.info("\n%s", table.to_string(index=False))
write_table(table, snakemake.output.tsv, snakemake.output.md)
