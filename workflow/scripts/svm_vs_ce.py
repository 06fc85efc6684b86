"""Rule svm_vs_ce_table: the multi-class SVM loss against cross-entropy (lab 1 bonus 2.2), one
row per (lambda, eta): each loss's test accuracy and its own test loss."""

from dd2424.io import read_json, setup_logging, write_table
from dd2424.mlp.ablation import svm_vs_ce_table

setup_logging(snakemake.log[0])
data = snakemake.params.data
entries = {
    run: read_json(path)
    for run, path in zip(snakemake.params.names, snakemake.input.metrics, strict=True)
}
note = (
    "test_loss_cross_entropy is the cross-entropy of the softmax, test_loss_svm the mean "
    "multi-class hinge loss (margin 1); neither includes the L2 term."
)
if not data["comparable"]:
    note += f" Measured on {data['description']}."
write_table(
    svm_vs_ce_table(entries, data["name"]), snakemake.output.tsv, snakemake.output.md, note=note
)
